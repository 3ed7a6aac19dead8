# src/privsep: privilege separation of the front ends (store helper,
# dropping to the parser's uid). Depends on store, net/tls, conf, util.
src_libmsgw_a_SOURCES += src/privsep/privsep.h src/privsep/start.c src/privsep/helper.c
