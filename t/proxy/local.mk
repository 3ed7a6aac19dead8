# t/proxy: tests of src/proxy
