#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "smtp/command.h"
#include "smtp/rcpt.h"
#include "util/log.h"

int networks_allow(const struct cidr *nets, size_t n, const char *peer)
{
	return cidr_allowed(nets, n, peer);
}

enum rcpt_result rcpt_lookup(const struct store *st, const struct config *cfg, const char *peer,
			     const char *addr, struct mailbox *mb)
{
	char buf[SMTP_PATH_MAX + 1], q[80];
	const char *local, *domain;

	if (addr_split(addr, buf, sizeof buf, &local, &domain, 1) < 0)
		return RCPT_UNKNOWN;
	if (strcasecmp(domain, cfg->domain) != 0)
		return RCPT_OTHER_DOMAIN;
	if (!mailbox_id_valid(local))
		return RCPT_UNKNOWN;
	if (store_mailbox_load(st, local, mb) < 0) {
		if (errno == ENOENT || errno == EINVAL)
			return RCPT_UNKNOWN;
		log_error("event=rcpt-lookup id=%s error=%s", local, log_q(q, sizeof q, strerror(errno)));
		return RCPT_TEMPFAIL;
	}
	/* a proxy mailbox is no journal target: answered as if it did not
	 * exist, so that proxy ids cannot be found through RCPT */
	if (mb->proxy) {
		log_info("event=rcpt-refused reason=proxy-mailbox id=%s", mb->id);
		return RCPT_UNKNOWN;
	}
	if (!networks_allow(mb->networks, mb->n_networks, peer)) {
		log_warning("event=denied reason=mailbox-networks id=%s", mb->id);
		return RCPT_NETWORK;
	}
	if (mb->suspended)
		return RCPT_SUSPENDED;
	return RCPT_OK;
}
