/* The HTTP-01 responder: a child process that holds acme.challenge_port only
 * while an order is pending and answers every validation request (CAs
 * validate several times, from several places) with the key authorization;
 * or, with --webroot, files under DIR/.well-known/acme-challenge/. */
#ifndef MSGW_ACME_RESPONDER_H
#define MSGW_ACME_RESPONDER_H

#include <stddef.h>
#include <sys/types.h>

#include "acme/internal.h"

#define HTTP01_MAX 16

struct http01 {
	char token[256];
	char keyauth[512];
};

struct responder {
	pid_t pid;               /* the serving child, 0 when none */
	const char *webroot;     /* NULL: serve ourselves */
	struct http01 tok[HTTP01_MAX];
	size_t n;
};

/* Bind addr (NULL or "" = all) : port, or write the webroot files, for the
 * tokens in r->tok[0..n). A bind failure says which port and why. */
int responder_start(struct responder *r, const char *addr, int port, struct acme_err *e);
/* Stop the child (by its pid) or remove the webroot files. */
void responder_stop(struct responder *r);

#endif
