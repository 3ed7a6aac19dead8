# t/net: tests of src/net (streams, TLS, connection modes)
check_PROGRAMS += t/net/stream-test t/net/echo-server
t_net_stream_test_LDADD = $(TAP_LIBS)
t_net_echo_server_LDADD = $(MSGW_LIBS)
TESTS += t/net/stream-test t/net/net.t
EXTRA_DIST += t/net/net.t

check_PROGRAMS += t/net/sni-test
t_net_sni_test_LDADD = $(TAP_LIBS)
TESTS += t/net/sni-test t/net/sni.t
EXTRA_DIST += t/net/sni.t t/net/hello/mpop-v6.hex t/net/hello/msmtp-v6.hex \
	t/net/hello/gnutls-cli-v6.hex t/net/hello/openssl-v6.hex t/net/hello/gnutls-cli-dns.hex

if FUZZING
check_PROGRAMS += t/net/fuzz-sni
t_net_fuzz_sni_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/net/fuzz.t
EXTRA_DIST += t/net/fuzz.t
