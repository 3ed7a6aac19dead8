# t/share: tests of the systemd units in share/
TESTS += t/share/units.t
EXTRA_DIST += t/share/units.t
# the Debian package: built, linted, installed, removed, purged
TESTS += t/share/package.t
EXTRA_DIST += t/share/package.t
# the fail2ban filter against the servers' own log lines
TESTS += t/share/fail2ban.t
EXTRA_DIST += t/share/fail2ban.t
