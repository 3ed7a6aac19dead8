# t/pop3: tests of src/pop3
check_PROGRAMS += t/pop3/codec-test t/pop3/pop3-bench-client t/pop3/pop3-fill
t_pop3_codec_test_LDADD = $(TAP_LIBS)
check_PROGRAMS += t/pop3/reply-test
t_pop3_reply_test_LDADD = $(TAP_LIBS)
TESTS += t/pop3/reply-test
t_pop3_pop3_bench_client_LDADD = $(MSGW_LIBS)
t_pop3_pop3_fill_LDADD = $(MSGW_LIBS)
TESTS += t/pop3/codec-test t/pop3/protocol.t t/pop3/maildrop.t t/pop3/clients.t t/pop3/large.t
TESTS += t/pop3/limits.t t/pop3/flood.t t/pop3/ipv6.t t/pop3/readahead.t
EXTRA_DIST += t/pop3/limits.t t/pop3/flood.t t/pop3/ipv6.t t/pop3/readahead.t
EXTRA_DIST += t/pop3/protocol.t t/pop3/maildrop.t t/pop3/clients.t t/pop3/large.t t/pop3/pop3lib.py \
	t/pop3/bench.sh t/pop3/bench.py
MSGW_BENCH += t/pop3/bench.sh

if FUZZING
check_PROGRAMS += t/pop3/fuzz-pop3
t_pop3_fuzz_pop3_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/pop3/fuzz.t
EXTRA_DIST += t/pop3/fuzz.t
