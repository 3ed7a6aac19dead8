# t/store: tests of src/store
