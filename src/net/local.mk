# src/net: connection streams, TLS (GnuTLS), how connections arrive.
# Depends on util and conf.
src_libmsgw_a_SOURCES += \
	src/net/frontend.c src/net/frontend.h \
	src/net/serve.c src/net/serve.h \
	src/net/stream.c src/net/stream.h src/net/stream-internal.h \
	src/net/sni.c src/net/sni.h \
	src/net/tls.c src/net/tls.h
