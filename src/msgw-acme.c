/* msgw-acme: TLS certificates (ACME, self-signed, import, status). */
#include "config.h"

#include "acme/acme.h"

int main(int argc, char **argv)
{
	return acme_main(argc, argv);
}
