# t/pop3: tests of src/pop3
