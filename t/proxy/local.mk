# t/proxy: tests of src/proxy. The .t scripts start real Postfix and
# Dovecot instances of their own (t/proxy/peers.py) as upstreams;
# bench.sh (make bench) compares the proxy with direct sessions.
check_PROGRAMS += t/proxy/proxy-test
t_proxy_proxy_test_LDADD = $(TAP_LIBS)
TESTS += t/proxy/proxy-test t/proxy/smtp.t t/proxy/pop3.t t/proxy/trust.t t/proxy/pop3-copy.t
FUZZ_TESTS += t/proxy/fuzz.t
EXTRA_DIST += t/proxy/smtp.t t/proxy/pop3.t t/proxy/trust.t t/proxy/pop3-copy.t t/proxy/fuzz.t t/proxy/peers.py \
	t/proxy/bench.sh t/proxy/bench.py
MSGW_BENCH += t/proxy/bench.sh

if FUZZING
check_PROGRAMS += t/proxy/fuzz-proxy
t_proxy_fuzz_proxy_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
