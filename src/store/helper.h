/* Requests to the store helper beyond delivery_* and maildrop_* (see
 * store/wire.h), for callers outside src/store. Only under privilege
 * separation (cfg->store_helper.on). */
#ifndef MSGW_STORE_HELPER_H
#define MSGW_STORE_HELPER_H

#include "store/store.h"

/* The proxy's seen index of mailbox id: add is 0 to ask (1 seen, 0 not),
 * 1 to add (0); -1 with errno. key: 32 lowercase hex digits. */
int store_helper_seen(const struct store *st, const char *id, const char *key, int add);

#endif
