# t/acme: tests of src/acme (msgw-acme)
TESTS += t/acme/selfsigned.t t/acme/import.t
EXTRA_DIST += t/acme/selfsigned.t t/acme/import.t
