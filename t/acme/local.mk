# t/acme: tests of src/acme
