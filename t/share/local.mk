# t/share: tests of the systemd units in share/
TESTS += t/share/units.t
EXTRA_DIST += t/share/units.t
