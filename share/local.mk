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

# The users and data_dir with its owners and modes (msgw-store(5)).
EXTRA_DIST += share/msgw.sysusers share/msgw.tmpfiles.in
CLEANFILES += share/msgw.tmpfiles
nodist_noinst_DATA = share/msgw.tmpfiles
share/msgw.tmpfiles: share/msgw.tmpfiles.in Makefile
	$(AM_V_GEN)$(MKDIR_P) share && sed -e 's|@localstatedir[@]|$(localstatedir)|g' \
		$(srcdir)/share/msgw.tmpfiles.in > $@.tmp && mv $@.tmp $@
install-data-local: install-msgw-users
uninstall-local: uninstall-msgw-users
install-msgw-users: share/msgw.tmpfiles
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)' '$(DESTDIR)$(tmpfilesdir)'
	$(INSTALL_DATA) $(srcdir)/share/msgw.sysusers '$(DESTDIR)$(sysusersdir)/msgw.conf'
	$(INSTALL_DATA) share/msgw.tmpfiles '$(DESTDIR)$(tmpfilesdir)/msgw.conf'
uninstall-msgw-users:
	rm -f '$(DESTDIR)$(sysusersdir)/msgw.conf' '$(DESTDIR)$(tmpfilesdir)/msgw.conf'
.PHONY: install-msgw-users uninstall-msgw-users
EXTRA_DIST += debian
# fail2ban filter and jail examples (msgw-setup(7)), copied by the admin.
fail2banfilterdir = $(docdir)/fail2ban/filter.d
dist_fail2banfilter_DATA = share/fail2ban/filter.d/msgw.conf
fail2banjaildir = $(docdir)/fail2ban/jail.d
dist_fail2banjail_DATA = share/fail2ban/jail.d/msgw.conf
