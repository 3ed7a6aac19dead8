# t/conf
