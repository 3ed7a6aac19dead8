# src/mbox: msgw-mbox commands. Depends on store, crypt, conf, util.
src_libmsgw_a_SOURCES += src/mbox/mbox.h src/mbox/cmd.h src/mbox/cli.c src/mbox/common.c \
	src/mbox/manage.c src/mbox/show.c src/mbox/export.c src/mbox/status.c \
	src/mbox/probe.h src/mbox/probe.c src/mbox/metrics.h src/mbox/metrics.c src/mbox/lock.c
