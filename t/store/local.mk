# t/store: tests of src/store
check_PROGRAMS += t/store/store-test
t_store_store_test_LDADD = $(TAP_LIBS)
TESTS += t/store/store-test
check_PROGRAMS += t/store/lock-test
t_store_lock_test_LDADD = $(TAP_LIBS)
TESTS += t/store/lock-test
EXTRA_DIST += t/store/fuzz.t
TESTS += t/store/gluster.t
EXTRA_DIST += t/store/gluster.t t/store/glusterlib.py

if FUZZING
check_PROGRAMS += t/store/fuzz-store
t_store_fuzz_store_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/store/fuzz.t

check_PROGRAMS += t/store/store-bench
EXTRA_DIST += t/store/bench.sh
MSGW_BENCH += t/store/bench.sh
EXTRA_DIST += t/store/gluster-bench.sh t/store/gluster-bench.py
MSGW_BENCH += t/store/gluster-bench.sh

# backup while running (msgw-setup(7)): tar, restore elsewhere, read back
TESTS += t/store/backup.t
EXTRA_DIST += t/store/backup.t
