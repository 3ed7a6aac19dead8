/* The commands that talk to a CA: issue and renew. */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include "acme/cmd.h"

int cmd_issue(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	app_load(a);
	fprintf(stderr, "msgw-acme: issue: not available yet\n");
	return EX_UNAVAILABLE;
}

int cmd_renew(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	app_load(a);
	fprintf(stderr, "msgw-acme: renew: not available yet\n");
	return EX_UNAVAILABLE;
}
