# src/pop3: the POP3 session (archiver retrieval). Depends on store, net, conf.
src_libmsgw_a_SOURCES += src/pop3/session.c src/pop3/session.h src/pop3/pop3.h \
	src/pop3/login.c src/pop3/transaction.c src/pop3/retr.c \
	src/pop3/codec.c src/pop3/reply.c src/pop3/reply.h
