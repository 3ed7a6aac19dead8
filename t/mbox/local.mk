# t/mbox: msgw-mbox end to end
TESTS += t/mbox/mbox.t t/mbox/metrics.t t/mbox/probe.t t/mbox/escrow.t
EXTRA_DIST += t/mbox/mbox.t t/mbox/metrics.t t/mbox/probe.t t/mbox/escrow.t
