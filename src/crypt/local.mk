# src/crypt: the age format (Nettle, libsodium AEAD, libscrypt-kdf, gnutls_rnd), and the
# one X.509 question asked outside TLS (GnuTLS). Depends on util.
src_libmsgw_a_SOURCES += \
	src/crypt/sodium.c \
	src/crypt/age.c src/crypt/age.h \
	src/crypt/age-internal.h \
	src/crypt/header.c \
	src/crypt/keys.c \
	src/crypt/b64.c src/crypt/b64.h \
	src/crypt/x509.c src/crypt/x509.h \
	src/crypt/digest.c src/crypt/digest.h
