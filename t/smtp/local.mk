# t/smtp: tests of src/smtp
check_PROGRAMS += t/smtp/smtp-test
t_smtp_smtp_test_LDADD = $(TAP_LIBS)
TESTS += t/smtp/smtp-test t/smtp/protocol.t t/smtp/delivery.t t/smtp/modes.t
EXTRA_DIST += t/smtp/smtptest.py t/smtp/protocol.t t/smtp/delivery.t t/smtp/modes.t
