# src/conf: the configuration file (libconfig) and program start-up.
# Depends on util.
src_libmsgw_a_SOURCES += \
	src/conf/app.c src/conf/app.h \
	src/conf/conf.c src/conf/conf.h
