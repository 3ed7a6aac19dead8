# src/pop3
src_libmsgw_a_SOURCES += src/pop3/session.c src/pop3/session.h
