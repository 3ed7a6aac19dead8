# systemd units, example configuration, cron example. The services name
# the installed paths, so they are made from .in templates at build time.
systemdunitdir = $(systemdsystemunitdir)
dist_systemdunit_DATA = \
	share/msgw-smtp.socket share/msgw-smtps.socket \
	share/msgw-pop3.socket share/msgw-pop3s.socket \
	share/msgw-proxy-smtps.socket share/msgw-proxy-pop3s.socket \
	share/msgw-acme-renew.timer \
	share/msgw-metrics.timer
UNIT_TEMPLATES = \
	share/msgw-smtp@.service.in share/msgw-smtps@.service.in \
	share/msgw-pop3@.service.in share/msgw-pop3s@.service.in \
	share/msgw-proxy-smtps@.service.in share/msgw-proxy-pop3s@.service.in \
	share/msgw-acme-renew.service.in \
	share/msgw-metrics.service.in
nodist_systemdunit_DATA = $(UNIT_TEMPLATES:.in=)
EXTRA_DIST += $(UNIT_TEMPLATES) share/msgw-acme.cron
CLEANFILES += $(UNIT_TEMPLATES:.in=)

$(UNIT_TEMPLATES:.in=): Makefile
	$(AM_V_GEN)$(MKDIR_P) share && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@localstatedir[@]|$(localstatedir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/$@.in > $@.tmp && mv $@.tmp $@

msgwdocdir = $(docdir)
dist_msgwdoc_DATA = share/msgw.conf.example
