# systemd units, example configuration, cron example.
systemdunitdir = $(systemdsystemunitdir)
dist_systemdunit_DATA =
dist_systemdunit_DATA += share/msgw-pop3.socket share/msgw-pop3@.service \
	share/msgw-pop3s.socket share/msgw-pop3s@.service
dist_systemdunit_DATA += share/msgw-smtp.socket share/msgw-smtp@.service \
	share/msgw-smtps.socket share/msgw-smtps@.service
dist_systemdunit_DATA += share/msgw-acme-renew.service share/msgw-acme-renew.timer
EXTRA_DIST += share/msgw-acme.cron
msgwdocdir = $(docdir)
dist_msgwdoc_DATA = share/msgw.conf.example
