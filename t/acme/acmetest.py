"""pebble and pebble-challtestsrv on loopback for the msgw-acme tests.

pebble gets a TLS certificate from a throwaway CA made here (the Debian
package ships none); pebble-challtestsrv is its DNS server and answers
127.0.0.1 for every name. Both are stopped by pid at exit.
"""
import json
import os
import shutil
import ssl
import subprocess
import urllib.request

from msgwtest import free_port, start_process, wait_port


def make_ca(d, days=30):
    """A throwaway CA and a certificate for localhost / 127.0.0.1 (openssl),
    valid long enough for runs under faketime a few days ahead."""
    os.makedirs(d, exist_ok=True)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    ca_key, ca, key, crt = f"{d}/ca.key", f"{d}/ca.pem", f"{d}/key.pem", f"{d}/cert.pem"
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", str(days), "-subj", "/CN=pebble test CA")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", f"{d}/req.csr", "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", f"{d}/req.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", str(days), "-extfile", f"{d}/ext.cnf")
    return ca, crt, key


def have_pebble():
    return shutil.which("pebble") and shutil.which("pebble-challtestsrv")




class Pebble:
    def __init__(self, t, d, challenge_port, validity=None, env=None):
        os.makedirs(d, exist_ok=True)
        self.ca, cert, key = make_ca(os.path.join(d, "pebble-tls"))
        self.port, self.mgmt, dns, dnsmgmt = free_port(), free_port(), free_port(), free_port()
        self.log = os.path.join(d, "pebble.log")
        conf = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt}",
            "certificate": cert, "privateKey": key,
            "httpPort": challenge_port, "tlsPort": free_port(),
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}
        if validity:
            conf["pebble"]["certificateValidityPeriod"] = validity
        cfile = os.path.join(d, "pebble.json")
        with open(cfile, "w") as f:
            json.dump(conf, f)
        dns_p = start_process(t, ["pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns}", "-http01", "", "-https01", "",
                           "-tlsalpn01", "", "-management", f"127.0.0.1:{dnsmgmt}",
                           "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], os.path.join(d, "challtestsrv.log"))
        penv = dict(os.environ, PEBBLE_VA_NOSLEEP="1", **(env or {}))
        p = start_process(t, ["pebble", "-config", cfile, "-dnsserver", f"127.0.0.1:{dns}"], self.log, env=penv)
        wait_port(dnsmgmt, proc=dns_p)
        wait_port(self.port, proc=p)
        wait_port(self.mgmt, proc=p)
        self.directory = f"https://127.0.0.1:{self.port}/dir"

    def root(self):
        """The issuing root, new at every pebble start."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mgmt}/roots/0", context=ctx, timeout=10) as r:
            return r.read().decode()


def faketime(argv, offset):
    """argv run some time ahead (faketime -f +4d), and the environment for it:
    ASan builds must accept libfaketime preloaded before their runtime."""
    env = dict(os.environ)
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return ["faketime", "-f", offset, *argv], env
