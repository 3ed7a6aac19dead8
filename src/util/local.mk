# src/util: buffers, paths, logging, wiping, address prefixes. Depends on libc only.
src_libmsgw_a_SOURCES += \
	src/util/buf.c src/util/buf.h \
	src/util/cidr.c src/util/cidr.h \
	src/util/fdio.c src/util/fdio.h \
	src/util/hostpattern.c src/util/hostpattern.h \
	src/util/log.c src/util/log.h \
	src/util/path.c src/util/path.h \
	src/util/slots.c src/util/slots.h \
	src/util/secmem.c src/util/secmem.h \
	src/util/wipe.h
