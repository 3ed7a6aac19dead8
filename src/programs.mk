# The five programs: thin mains over src/libmsgw.a.
sbin_PROGRAMS += src/msgw-smtp src/msgw-pop3 src/msgw-proxy src/msgw-mbox src/msgw-acme
src_msgw_smtp_SOURCES = src/msgw-smtp.c
src_msgw_pop3_SOURCES = src/msgw-pop3.c
src_msgw_proxy_SOURCES = src/msgw-proxy.c
src_msgw_mbox_SOURCES = src/msgw-mbox.c
src_msgw_acme_SOURCES = src/msgw-acme.c
