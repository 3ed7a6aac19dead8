# t/: TAP tests. t/<room>/ mirrors src/<room>/; each owns a local.mk.
check_LIBRARIES = t/libtap.a
t_libtap_a_SOURCES = t/tap.c t/tap.h
TAP_LIBS = t/libtap.a $(MSGW_LIBS)

EXTRA_DIST += t/run t/lib.sh t/lib/msgwtest.py

TESTS += t/programs.t
EXTRA_DIST += t/programs.t

include t/util/local.mk
include t/conf/local.mk
include t/net/local.mk
include t/crypt/local.mk
include t/store/local.mk
include t/mbox/local.mk
include t/smtp/local.mk
include t/pop3/local.mk
include t/proxy/local.mk
include t/acme/local.mk
include t/share/local.mk
include t/privsep/local.mk
