# t/privsep: privilege separation from the attacker's side (attack.t, as
# root), the store helper's wire protocol (wire-test) and its fuzz target.
TESTS += t/privsep/attack.t t/privsep/acme-state.t
EXTRA_DIST += t/privsep/attack.t t/privsep/acme-state.t
