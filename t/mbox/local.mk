# t/mbox: tests of src/mbox
