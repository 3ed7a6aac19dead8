# t/smtp: tests of src/smtp
check_PROGRAMS += t/smtp/smtp-test
t_smtp_smtp_test_LDADD = $(TAP_LIBS)
SMTP_T = t/smtp/protocol.t t/smtp/delivery.t t/smtp/modes.t t/smtp/postfix.t t/smtp/diskfull.t \
	t/smtp/dovecot-bdat.t t/smtp/dedup.t
TESTS += t/smtp/smtp-test $(SMTP_T)
EXTRA_DIST += t/smtp/smtptest.py $(SMTP_T)

if FUZZING
check_PROGRAMS += t/smtp/fuzz-smtp
t_smtp_fuzz_smtp_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
FUZZ_TESTS += t/smtp/fuzz.t
EXTRA_DIST += t/smtp/fuzz.t

EXTRA_DIST += t/smtp/bench.sh t/smtp/bench.py t/smtp/bench-dedup.sh t/smtp/bench-dedup.py
MSGW_BENCH += t/smtp/bench.sh t/smtp/bench-dedup.sh
