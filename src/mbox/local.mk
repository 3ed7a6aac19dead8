# src/mbox: msgw-mbox commands. Depends on store, crypt, conf, util.
src_libmsgw_a_SOURCES += src/mbox/cli.c src/mbox/mbox.h
