# t/crypt: tests of src/crypt
