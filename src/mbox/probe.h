/* Port probes for msgw-mbox status (status.probe). */
#ifndef MSGW_MBOX_PROBE_H
#define MSGW_MBOX_PROBE_H

#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

/* Probe spec ("pop3s://127.0.0.1:995"): greeting, TLS, verified
 * certificate. 0 with *until (the certificate's expiry) and the TLS
 * version and suite in msg; -1 with the reason in msg. rsa_only: as a
 * client that verifies RSA signatures only, to see a port's RSA pair. */
int probe_port(const struct config *cfg, const char *spec, int rsa_only, time_t *until, char *msg,
	       size_t msgsize);

#endif
