# t/store: tests of src/store
check_PROGRAMS += t/store/store-test
t_store_store_test_LDADD = $(TAP_LIBS)
TESTS += t/store/store-test
