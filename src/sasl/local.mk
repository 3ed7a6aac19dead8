# src/sasl: SASL PLAIN and the SMTP AUTH exchange, shared by msgw-smtp,
# msgw-proxy and the proxy's upstream log-ins. Depends on crypt (base64), net.
src_libmsgw_a_SOURCES += src/sasl/sasl.h src/sasl/plain.c \
	src/sasl/smtpauth.c src/sasl/smtpauth.h
