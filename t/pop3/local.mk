# t/pop3: tests of src/pop3
check_PROGRAMS += t/pop3/codec-test
t_pop3_codec_test_LDADD = $(TAP_LIBS)
TESTS += t/pop3/codec-test t/pop3/protocol.t
EXTRA_DIST += t/pop3/protocol.t t/pop3/pop3lib.py
