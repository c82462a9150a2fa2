"""Certificates for the secure dev broker, made by the test: nothing checked in, nothing that expires in the repo.

A CA signs the broker's certificate (SAN IP 127.0.0.1 and DNS localhost, so hostname verification, on by
default in librdkafka and in Python's ssl, passes on loopback) and a client certificate for mutual TLS.  A second,
unrelated CA signs nothing the broker knows: a client trusting only it must refuse the broker, and the broker
must refuse the client certificate it signs.  Keys are RSA 2048 (Kafka's PEM key store reads PKCS#8 RSA keys;
five keys take well under a second) and written unencrypted: Kafka accepts an unencrypted PKCS#8 key when no
``ssl.key.password`` is set, and librdkafka and aiokafka take the key file as it is.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Pems", "make_pems"]

_VALID = datetime.timedelta(days=2)  # a test session; a day back too, for a clock a little behind


@dataclass(frozen=True)
class Pems:
    """The PEM files of one test session."""

    ca: Path  # the CA the broker trusts and the clients trust
    server_keystore: Path  # the broker's key (PKCS#8), its certificate and the CA: Kafka's PEM key store file
    client_cert: Path  # signed by ``ca``: mutual TLS
    client_key: Path
    untrusted_ca: Path  # an unrelated CA: trusting only it, a client must refuse the broker
    untrusted_client_cert: Path  # signed by ``untrusted_ca``: the broker must refuse it
    untrusted_client_key: Path


@dataclass(frozen=True)
class _Issuer:
    name: x509.Name
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "streams tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + _VALID))


def _ca(common_name: str) -> _Issuer:
    key = _key()
    name = _name(common_name)
    cert = (_builder(name, name, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _Issuer(name, key, cert)


def _leaf(issuer: _Issuer, common_name: str, usage: x509.ObjectIdentifier,
          san: list[x509.GeneralName] | None = None) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    builder = (_builder(_name(common_name), issuer.name, key)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                              critical=False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer.key, hashes.SHA256()), key


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pems(directory: Path) -> Pems:
    """Make the CAs, the broker's and the clients' certificates and write them as PEM files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca("streams test CA")
    other = _ca("unrelated CA")
    server, server_key = _leaf(ca, "localhost", ExtendedKeyUsageOID.SERVER_AUTH,
                               [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client, client_key = _leaf(ca, "streams-client", ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger, stranger_key = _leaf(other, "stranger", ExtendedKeyUsageOID.CLIENT_AUTH)
    pems = Pems(ca=directory / "ca.pem", server_keystore=directory / "server-keystore.pem",
                client_cert=directory / "client.pem", client_key=directory / "client-key.pem",
                untrusted_ca=directory / "untrusted-ca.pem", untrusted_client_cert=directory / "stranger.pem",
                untrusted_client_key=directory / "stranger-key.pem")
    pems.ca.write_bytes(_cert_pem(ca.cert))
    pems.server_keystore.write_bytes(_key_pem(server_key) + _cert_pem(server) + _cert_pem(ca.cert))
    pems.client_cert.write_bytes(_cert_pem(client))
    pems.client_key.write_bytes(_key_pem(client_key))
    pems.untrusted_ca.write_bytes(_cert_pem(other.cert))
    pems.untrusted_client_cert.write_bytes(_cert_pem(stranger))
    pems.untrusted_client_key.write_bytes(_key_pem(stranger_key))
    for path in (pems.server_keystore, pems.client_key, pems.untrusted_client_key):
        path.chmod(0o600)
    return pems
