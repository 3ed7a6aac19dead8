# t/proxy: tests of src/proxy. The .t scripts start real Postfix and
# Dovecot instances of their own (t/proxy/peers.py) as upstreams.
TESTS += t/proxy/smtp.t t/proxy/pop3.t
EXTRA_DIST += t/proxy/smtp.t t/proxy/pop3.t t/proxy/peers.py
