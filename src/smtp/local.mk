# src/smtp: the SMTP journal target. Depends on store, net, conf, util.
src_libmsgw_a_SOURCES += \
	src/smtp/client.c src/smtp/client.h \
	src/smtp/command.c src/smtp/command.h \
	src/smtp/data.c src/smtp/data.h \
	src/smtp/rcpt.c src/smtp/rcpt.h \
	src/smtp/received.c src/smtp/received.h \
	src/smtp/reply.c src/smtp/reply.h \
	src/smtp/session.c src/smtp/session.h
