# t/conf: tests of src/conf
check_PROGRAMS += t/conf/conf-test
t_conf_conf_test_LDADD = $(TAP_LIBS)
TESTS += t/conf/conf-test t/conf/config.t
EXTRA_DIST += t/conf/config.t
