# t/acme: tests of src/acme (msgw-acme). acmetest.py runs pebble for them.
TESTS += t/acme/selfsigned.t t/acme/import.t t/acme/pebble.t t/acme/ari.t
EXTRA_DIST += t/acme/selfsigned.t t/acme/import.t t/acme/pebble.t t/acme/ari.t t/acme/acmetest.py
