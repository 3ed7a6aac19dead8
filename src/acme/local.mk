# src/acme: msgw-acme commands. Depends on net, conf, util.
# x509.c is the only file here that includes GnuTLS headers.
src_libmsgw_a_SOURCES += src/acme/acme.h src/acme/cli.c src/acme/cmd.h \
	src/acme/certcmd.c src/acme/acmecmd.c \
	src/acme/internal.h src/acme/util.c \
	src/acme/install.h src/acme/install.c \
	src/acme/state.h src/acme/state.c \
	src/acme/http.h src/acme/http.c \
	src/acme/client.h src/acme/client.c \
	src/acme/responder.h src/acme/responder.c \
	src/acme/renewal.h src/acme/renewal.c \
	src/acme/x509.h src/acme/x509.c \
	src/acme/keychoice.h src/acme/keychoice.c
