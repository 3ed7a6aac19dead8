/* The msgw configuration: a libconfig file with a default for every key.
 * Loaded once at start-up; the process's own read-only state after that. */
#ifndef MSGW_CONF_CONF_H
#define MSGW_CONF_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "util/cidr.h"
#include "util/slots.h"

#define MSGW_DEFAULT_CONFIG SYSCONFDIR "/msgw/msgw.conf"

struct strlist {
	char **v;
	size_t n;
};

struct config {
	char *path;              /* the file this was loaded from */
	char *domain;            /* mailbox addresses are <id>@domain */
	char *hostname;          /* name in greetings and Received: */
	char *data_dir;
	int log_level;           /* enum log_level */
	struct {
		char *cert, *key;
		int min_version;     /* 12 or 13 */
		int handshake_timeout;
		char *rsa_cert, *rsa_key; /* the second pair, used when rsa_cert exists */
	} tls;
	struct {
		int max_connections; /* concurrent children under --listen */
		int max_connections_per_source; /* of those, from one address */
		int require_privsep; /* refuse to start unseparated (not as root) */
	} server;
	struct {
		int64_t max_message_size;
		int require_tls;
		int max_recipients;
		int max_errors;
		int command_timeout, data_timeout, session_timeout;
		struct strlist allowed_networks;
		struct cidr *networks;   /* parsed allowed_networks */
		size_t n_networks;
	} smtp;
	struct {
		int login_failure_delay; /* milliseconds */
		int idle_timeout;
		int max_errors;
		int lock_lease, lock_renew; /* seconds: maildrop lock lease, its renewal */
		int login_timeout, session_timeout;  /* seconds */
		int max_messages;        /* listing limit: the oldest are served */
	} pop3;
	struct {
		int enabled;
		char *ca_file;
		struct strlist allowed_targets;
		struct strlist target_ca_files;  /* "PATTERN=FILE": that CA only, for those targets */
		int pop3_require_copy;
		int connect_timeout, reply_timeout;
		struct strlist allowed_networks; /* clients that may log in to the proxy */
		struct cidr *networks;           /* parsed allowed_networks */
		size_t n_networks;
	} proxy;
	struct {
		char *directory, *staging_directory, *ca_file, *email, *profile;
		char *challenge_address; /* "" = all addresses */
		int challenge_port;
	} acme;
	struct {
		int scrypt_log_n;
		char *escrow_recipient;  /* "" or age1...: every stored message is also encrypted to it */
		int max_unseals;         /* at once on this host; 0 = number of cores */
		char *unseal_lock_dir;   /* host-local: the slots' lock files */
	} crypt;
	struct {
		int oldest_warning_hours, oldest_critical_hours;
		int cert_warning_days, cert_critical_days;
		int64_t min_free_bytes;
		char *prometheus_file;    /* msgw-mbox status --prometheus --write */
		struct strlist probe;     /* "KIND://ADDR:PORT", KIND smtp|smtps|pop3|pop3s */
		char *probe_ca_file;      /* trust for the probes; "" = tls.cert */
		int probe_timeout;        /* seconds per probe */
	} status;
	struct {                 /* not keys: set by a privilege-separated front end */
		int on;          /* store access goes through the store helper */
		int fd;          /* its socket (store/wire.h) */
	} store_helper;
	/* not a key: crypt.unseal_lock_dir's files, opened before privileges drop */
	struct slot_set unseal_slots;
	/* not keys: tls.cert/tls.key and the RSA pair, read before privileges drop */
	struct tls_pem {
		char *cert, *key;
		size_t cert_len, key_len;
	} tls_preload, tls_rsa_preload;
};

/* Which file to read: explicit (-c) wins, then $MSGW_CONFIG, then default. */
const char *config_pick_path(const char *explicit_path);

/* Load and validate. On failure returns -1 with a message naming the file,
 * line and key in err ("FILE:LINE: KEY: problem"); cfg is then empty. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
/* Defaults only (no file): for tests and tools that run without one. */
int config_defaults(struct config *cfg);
void config_free(struct config *cfg);
/* The i-th known key name ("smtp.max_recipients"), NULL past the end. */
const char *config_key_name(size_t i);

#endif
