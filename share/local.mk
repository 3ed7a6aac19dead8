# systemd units, example configuration, cron example.
systemdunitdir = $(systemdsystemunitdir)
dist_systemdunit_DATA =
msgwdocdir = $(docdir)
dist_msgwdoc_DATA = share/msgw.conf.example
