# src/proxy: the recording proxy (msgw-proxy, and the hand-off msgw-smtp
# and msgw-pop3 use for user%server%mailbox log-ins).
src_libmsgw_a_SOURCES += src/proxy/handoff.h src/proxy/proxy.h src/proxy/login.c \
	src/proxy/upstream.c src/proxy/target.c src/proxy/tee.c src/proxy/seen.c src/proxy/data.c \
	src/proxy/reply.c src/proxy/smtp.c src/proxy/pop3.c src/proxy/takeover.c
