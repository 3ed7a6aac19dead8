# t/smtp: tests of src/smtp
