# src/crypt: the age format (Nettle, libscrypt-kdf, gnutls_rnd). Depends on util.
src_libmsgw_a_SOURCES += src/crypt/age.h
