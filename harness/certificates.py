"""A throwaway certificate authority and a server certificate signed by it, for TLS servers
started on loopback (a TLS-only Redis in the tests and the deployment walk-through)."""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


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
