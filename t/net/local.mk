# t/net: tests of src/net (streams, TLS, connection modes)
check_PROGRAMS += t/net/stream-test t/net/echo-server
t_net_stream_test_LDADD = $(TAP_LIBS)
t_net_echo_server_LDADD = $(MSGW_LIBS)
TESTS += t/net/stream-test t/net/net.t
EXTRA_DIST += t/net/net.t
