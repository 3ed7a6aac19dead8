/* msgw-acme commands. */
#ifndef MSGW_ACME_ACME_H
#define MSGW_ACME_ACME_H

int acme_main(int argc, char **argv);

#endif
