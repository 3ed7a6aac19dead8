# t/smtp: tests of src/smtp
check_PROGRAMS += t/smtp/smtp-test
t_smtp_smtp_test_LDADD = $(TAP_LIBS)
SMTP_T = t/smtp/protocol.t t/smtp/delivery.t t/smtp/modes.t t/smtp/postfix.t t/smtp/diskfull.t
TESTS += t/smtp/smtp-test $(SMTP_T)
EXTRA_DIST += t/smtp/smtptest.py $(SMTP_T)
