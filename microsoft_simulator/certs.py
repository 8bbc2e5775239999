"""Self-signed CA and server certificate, kept in the state directory.

Keys are reused across restarts so a browser or a CA bundle configured once
keeps working; the server certificate is re-issued only when missing.
"""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
SIGNING_KEY_FILE = "token-signing-key.pem"


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    path.chmod(0o600)
    return key


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rostersync Microsoft simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _validity(builder, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=days))


def _create_ca(key):
    name = _name("Microsoft simulator local CA")
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name)
    builder = _validity(builder, 3650).public_key(key.public_key())
    builder = builder.serial_number(x509.random_serial_number())
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    builder = builder.add_extension(x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False), critical=True)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return builder.sign(key, hashes.SHA256())


def _create_server_cert(ca_cert, ca_key, key):
    builder = x509.CertificateBuilder().subject_name(_name("localhost"))
    builder = builder.issuer_name(ca_cert.subject).public_key(key.public_key())
    builder = _validity(builder, 825).serial_number(x509.random_serial_number())
    builder = builder.add_extension(x509.SubjectAlternativeName([
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]), critical=False)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def ensure_certificates(state_dir: Path):
    """Return (ca_path, server_cert_path, server_key_path), creating what is missing."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ca_path = state_dir / CA_FILE
    ca_key_path = state_dir / CA_KEY_FILE
    cert_path = state_dir / SERVER_CERT_FILE
    key_path = state_dir / SERVER_KEY_FILE
    ca_key = load_or_create_key(ca_key_path)
    if ca_path.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    else:
        ca_cert = _create_ca(ca_key)
        ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        cert_path.unlink(missing_ok=True)
    server_key = load_or_create_key(key_path)
    if not cert_path.exists():
        cert = _create_server_cert(ca_cert, ca_key, server_key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca_path.resolve(), cert_path.resolve(), key_path.resolve()
