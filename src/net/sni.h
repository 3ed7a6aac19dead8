/* The server_name extension of a TLS ClientHello (RFC 6066 section 3), read
 * from the raw handshake message so that a name GnuTLS would refuse (an IP
 * literal such as mpop's and msmtp's "::1", a NUL, an overlong label) can be
 * ignored instead of aborting the handshake. Network input: every length is
 * checked against the bytes that are there. No GnuTLS here; net/tls.c calls
 * it from its handshake hooks. */
#ifndef MSGW_NET_SNI_H
#define MSGW_NET_SNI_H

#include <stddef.h>
#include <stdint.h>

/* More host_name entries than this in one ClientHello: sni_find says
 * SNI_MALFORMED and nothing is changed (real clients send one). */
#define SNI_NAMES_MAX 8
/* What an ignored entry's name_type becomes: not host_name(0), so parsers
 * skip it (RFC 6066: unknown types are ignored); lengths stay as they were. */
#define SNI_TYPE_IGNORED 0xff

enum sni_result {
	SNI_OK,        /* a server_name extension was found (n may be 0) */
	SNI_NONE,      /* well-formed, no server_name extension */
	SNI_MALFORMED, /* not a ClientHello this parser can vouch for */
};

struct sni_name {
	size_t type_at; /* offset of the entry's name_type byte in the message */
	size_t name_at; /* offset of the name */
	size_t len;     /* length of the name, 1..65535 */
};

struct sni_list {
	struct sni_name name[SNI_NAMES_MAX];
	size_t n;
};

/* The host_name entries of hello, a ClientHello body (legacy_version up
 * to the end of the extensions, without the 4-byte handshake header). */
enum sni_result sni_find(const uint8_t *hello, size_t len, struct sni_list *out);

/* Whether a server name is an acceptable DNS host name: 1..253 bytes of
 * dot-separated labels of 1..63 letters, digits and inner hyphens, no
 * trailing dot, and a last label that is not all digits (so no IPv4
 * literal). Everything else is refused, IPv6 literals and NULs included. */
int sni_host_name_ok(const uint8_t *name, size_t len);

/* Turn every host_name entry of hello that sni_host_name_ok refuses into
 * an ignored entry (SNI_TYPE_IGNORED), in place; no length changes. Returns
 * the number ignored; *first (when not NULL) gets the first one. A message
 * sni_find cannot vouch for is left untouched (returns 0). */
size_t sni_ignore_invalid(uint8_t *hello, size_t len, struct sni_name *first);

/* A printable copy of name for a log line: bytes outside 0x21..0x7e become
 * '?', truncated to fit out (always NUL-terminated, size > 0). */
const char *sni_printable(char *out, size_t size, const uint8_t *name, size_t len);

#endif
