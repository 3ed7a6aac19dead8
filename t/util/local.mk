# t/util: tests of src/util
check_PROGRAMS += t/util/util-test
t_util_util_test_LDADD = $(TAP_LIBS)
TESTS += t/util/util-test
