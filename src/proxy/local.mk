# src/proxy
src_libmsgw_a_SOURCES += src/proxy/session.c src/proxy/session.h
