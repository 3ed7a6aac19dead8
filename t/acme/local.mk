# t/acme: tests of src/acme (msgw-acme). acmetest.py runs pebble for them.
check_PROGRAMS += t/acme/acme-test
t_acme_acme_test_LDADD = $(TAP_LIBS)
check_PROGRAMS += t/acme/responder-test
t_acme_responder_test_LDADD = $(TAP_LIBS)
TESTS += t/acme/responder-test
TESTS += t/acme/acme-test t/acme/selfsigned.t t/acme/import.t t/acme/pebble.t t/acme/ari.t t/acme/keytypes.t
EXTRA_DIST += t/acme/selfsigned.t t/acme/import.t t/acme/pebble.t t/acme/ari.t t/acme/keytypes.t t/acme/acmetest.py \
	t/acme/fuzz.t

FUZZ_TESTS += t/acme/fuzz.t
if FUZZING
check_PROGRAMS += t/acme/fuzz-cert
t_acme_fuzz_cert_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
