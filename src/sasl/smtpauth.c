#include "config.h"

#include <string.h>
#include <strings.h>

#include "crypt/b64.h"
#include "sasl/sasl.h"
#include "sasl/smtpauth.h"
#include "util/wipe.h"

/* One base64 response line into a->dec. */
static enum smtpauth_result get_b64(struct stream *s, struct smtpauth *a)
{
	size_t len;

	if (stream_getline(s, a->line, sizeof a->line, &len) != LINE_OK)
		return SMTPAUTH_LOST;
	chomp(a->line, &len);
	if (strcmp(a->line, "*") == 0)
		return SMTPAUTH_CANCELLED;
	if (b64_decode(a->line, len, a->dec, sizeof a->dec, &a->dlen) < 0)
		return SMTPAUTH_MALFORMED;
	return SMTPAUTH_OK;
}

/* The initial response on the AUTH line, or one asked for with prompt. */
static enum smtpauth_result first(struct stream *s, const char *init, const char *prompt,
				  struct smtpauth *a)
{
	if (init && init[0]) {
		if (strcmp(init, "=") == 0) {   /* RFC 4954: an empty initial response */
			a->dlen = 0;
			a->dec[0] = '\0';
			return SMTPAUTH_OK;
		}
		return b64_decode(init, strlen(init), a->dec, sizeof a->dec, &a->dlen) < 0
			       ? SMTPAUTH_MALFORMED
			       : SMTPAUTH_OK;
	}
	if (stream_puts(s, prompt) < 0)
		return SMTPAUTH_LOST;
	return get_b64(s, a);
}

static int mech_is(const char *args, const char *mech)
{
	size_t n = strlen(mech);

	return strncasecmp(args, mech, n) == 0 && (args[n] == '\0' || args[n] == ' ');
}

enum smtpauth_result smtpauth_read(struct stream *s, const char *args, struct smtpauth *a)
{
	const char *init = strchr(args, ' ');
	enum smtpauth_result r;

	a->user = a->pass = NULL;
	a->plen = 0;
	init = init ? init + 1 : NULL;
	if (mech_is(args, "PLAIN")) {
		if ((r = first(s, init, "334 \r\n", a)) != SMTPAUTH_OK)
			return r;
		if (sasl_plain_split(a->dec, a->dlen, &a->user, &a->pass, &a->plen) < 0)
			return SMTPAUTH_MALFORMED;
		return SMTPAUTH_OK;
	}
	if (!mech_is(args, "LOGIN"))
		return SMTPAUTH_BAD_MECH;
	/* "Username:" and "Password:" in base64, as every LOGIN client expects */
	if ((r = first(s, init, "334 VXNlcm5hbWU6\r\n", a)) != SMTPAUTH_OK)
		return r;
	if (a->dlen == 0 || memchr(a->dec, '\0', a->dlen) != NULL)
		return SMTPAUTH_MALFORMED;
	memcpy(a->name, a->dec, a->dlen + 1);
	if (stream_puts(s, "334 UGFzc3dvcmQ6\r\n") < 0)
		return SMTPAUTH_LOST;
	if ((r = get_b64(s, a)) != SMTPAUTH_OK)
		return r;
	a->user = a->name;
	a->pass = (const char *)a->dec;
	a->plen = a->dlen;
	return SMTPAUTH_OK;
}

void smtpauth_wipe(struct smtpauth *a, struct stream *s)
{
	wipe(a->line, sizeof a->line);
	wipe(a->name, sizeof a->name);
	wipe(a->dec, sizeof a->dec);
	a->user = a->pass = NULL;
	a->plen = 0;
	stream_wipe_consumed(s);
}
