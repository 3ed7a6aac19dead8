# src/acme: msgw-acme commands. Depends on net, conf, util.
src_libmsgw_a_SOURCES += src/acme/cli.c src/acme/acme.h
