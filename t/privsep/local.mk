# t/privsep: privilege separation from the attacker's side (attack.t, as
# root), the store helper's wire protocol (wire-test) and its fuzz target.
TESTS += t/privsep/attack.t t/privsep/acme-state.t
EXTRA_DIST += t/privsep/attack.t t/privsep/acme-state.t
check_PROGRAMS += t/privsep/wire-test t/privsep/remote-test
t_privsep_wire_test_LDADD = $(TAP_LIBS)
t_privsep_remote_test_LDADD = $(TAP_LIBS)
TESTS += t/privsep/wire-test t/privsep/remote-test
EXTRA_DIST += t/privsep/fuzz.t
if FUZZING
check_PROGRAMS += t/privsep/fuzz-wire
t_privsep_fuzz_wire_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/privsep/fuzz.t
