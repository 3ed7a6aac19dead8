# t/store: tests of src/store
check_PROGRAMS += t/store/store-test
t_store_store_test_LDADD = $(TAP_LIBS)
TESTS += t/store/store-test
EXTRA_DIST += t/store/fuzz.t

if FUZZING
check_PROGRAMS += t/store/fuzz-store
t_store_fuzz_store_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/store/fuzz.t

check_PROGRAMS += t/store/store-bench
EXTRA_DIST += t/store/bench.sh
MSGW_BENCH += t/store/bench.sh

# backup while running (msgw-setup(7)): tar, restore elsewhere, read back
TESTS += t/store/backup.t
EXTRA_DIST += t/store/backup.t
