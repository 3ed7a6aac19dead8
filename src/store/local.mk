# src/store: mailboxes, delivery, retrieval. Depends on crypt, conf, util.
src_libmsgw_a_SOURCES += src/store/store.h src/store/admin.h src/store/internal.h \
	src/store/id.c src/store/maildir.c src/store/lock.c src/store/mailbox.c \
	src/store/admin.c src/store/delivery.c src/store/maildrop.c src/store/reader.c \
	src/store/dedup.c src/store/dedup.h src/store/escrow.c src/store/escrow.h src/store/reseal.c \
	src/store/wire.c src/store/wire.h src/store/remote.c src/store/remote.h src/store/helper.h src/store/drift.c
