# Manual pages: what a user reads instead of the source.
dist_man_MANS += man/msgw.7 man/msgw.conf.5 man/msgw-store.5 \
	man/msgw-smtp.8 man/msgw-pop3.8 man/msgw-proxy.8 man/msgw-mbox.8 man/msgw-acme.8
dist_man_MANS += man/msgw-setup.7
