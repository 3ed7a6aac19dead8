# src/smtp
src_libmsgw_a_SOURCES += src/smtp/session.c src/smtp/session.h
