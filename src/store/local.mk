# src/store: mailboxes, delivery, retrieval. Depends on crypt, conf, util.
src_libmsgw_a_SOURCES += src/store/store.h
