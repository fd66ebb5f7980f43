"""Over https the request goes to the checked address, yet TLS still names and verifies the host:
the certificate must be for the URL's name, not for the address connected to."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gcwm.notify import EmbeddedSink, Sink
from gcwm.store import Store
from tests.integration.notify.conftest import SECRET, MakeDispatcher, Queue, message, webhook_itsm


def _certificate(
    subject: str,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def tls_sink(tmp_path: Path) -> Iterator[tuple[EmbeddedSink, ssl.SSLContext]]:
    """A TLS sink on 127.0.0.1 with a certificate for itsm.test, and a context trusting its test CA."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "gcwm test CA",
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gcwm test CA")]),
        ca_key,
        ca_key,
        ca=True,
    )
    leaf = _certificate("itsm.test", ca.subject, leaf_key, ca_key, ca=False)
    cert_file, key_file, ca_file = tmp_path / "leaf.pem", tmp_path / "leaf.key", tmp_path / "ca.pem"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    with EmbeddedSink(Sink(secret=SECRET), certfile=str(cert_file), keyfile=str(key_file)) as sink:
        yield sink, ssl.create_default_context(cafile=str(ca_file))


def _loopback(host: str) -> Sequence[str]:
    return ["127.0.0.1"]


async def test_the_certificate_is_verified_for_the_urls_name_while_the_checked_address_is_used(
    store: Store, tls_sink: tuple[EmbeddedSink, ssl.SSLContext], queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """https://itsm.test:PORT resolves to 127.0.0.1; TLS names itsm.test, whose certificate passes."""
    sink, tls = tls_sink
    port = sink.url.rsplit(":", 1)[1]
    message_id = queue(itsm=webhook_itsm(f"https://itsm.test:{port}/webhook"))

    async with make_dispatcher(resolver=_loopback, tls=tls) as dispatcher:
        await dispatcher.run_once()

    assert message(store, message_id).status == "delivered"
    (received,) = sink.sink.received("webhook")
    assert received.verified is True and received.headers["host"] == f"itsm.test:{port}"


async def test_a_name_the_certificate_does_not_cover_fails_even_at_the_same_address(
    store: Store, tls_sink: tuple[EmbeddedSink, ssl.SSLContext], queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """other.test resolves to the same 127.0.0.1, but the certificate is for itsm.test: no delivery."""
    sink, tls = tls_sink
    port = sink.url.rsplit(":", 1)[1]
    message_id = queue(itsm=webhook_itsm(f"https://other.test:{port}/webhook"))

    async with make_dispatcher(resolver=_loopback, tls=tls) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "pending"
    assert "CERTIFICATE_VERIFY_FAILED" in (stored.last_error or ""), stored.last_error
    assert sink.sink.received() == []
