# t/net
