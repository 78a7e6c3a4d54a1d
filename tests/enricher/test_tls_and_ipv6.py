"""Connecting to the validated address keeps TLS hostname checks; IPv6 answers work too."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import ImageAnalyzer
from image_enricher.policy import UrlPolicy

from tests.imageserver import ImageServer
from tests.imageserver.server import _Handler, _ServerState

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca_and_leaf(tmp: Path, dns_name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a leaf for ``dns_name`` signed by it: (ca.pem, leaf.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("test CA"))
        .issuer_name(_name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "leaf.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[ImageServer, Path]]:
    ca, leaf, key = make_ca_and_leaf(tmp_path, request.param)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf, key)
    with ImageServer(ssl_context=context) as server:
        yield server, ca


@pytest.mark.parametrize("tls_server", ["localhost"], indirect=True)
def test_https_to_the_validated_address_checks_the_hostname(
    tls_server: tuple[ImageServer, Path],
) -> None:
    server, ca = tls_server
    policy = UrlPolicy.build([server.authority], ["127.0.0.0/8"])
    info = ImageAnalyzer(policy, ca_certs=str(ca)).analyze(server.url("/tls.png", w=12, h=9))
    assert server.base_url.startswith("https://localhost:")
    assert (info.width, info.height) == (12, 9)


@pytest.mark.parametrize("tls_server", ["images.other.test"], indirect=True)
def test_a_certificate_for_another_name_is_refused(tls_server: tuple[ImageServer, Path]) -> None:
    server, ca = tls_server
    policy = UrlPolicy.build([server.authority], ["127.0.0.0/8"])
    with pytest.raises(AnalysisError) as refused:
        ImageAnalyzer(policy, ca_certs=str(ca)).analyze(server.url("/tls.png", w=12, h=9))
    assert refused.value.code == ErrorCode.TLS_ERROR


@pytest.mark.parametrize("tls_server", ["localhost"], indirect=True)
def test_an_untrusted_certificate_is_refused(tls_server: tuple[ImageServer, Path]) -> None:
    server, _ = tls_server
    policy = UrlPolicy.build([server.authority], ["127.0.0.0/8"])
    with pytest.raises(AnalysisError) as refused:
        ImageAnalyzer(policy).analyze(server.url("/tls.png", w=12, h=9))  # system CAs only
    assert refused.value.code == ErrorCode.TLS_ERROR


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def test_an_ipv6_answer_is_dialled_as_ipv6() -> None:
    state = _ServerState()
    try:
        server = _IPv6Server(("::1", 0), type("H", (_Handler,), {"state": state}))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        policy = UrlPolicy.build(
            [f"v6.test:{port}"], ["::1/128"], resolver=lambda h, p: [ipaddress.ip_address("::1")]
        )
        info = ImageAnalyzer(policy).analyze(f"http://v6.test:{port}/six.png?w=6&h=4")
    finally:
        server.shutdown()
        server.server_close()
    assert (info.width, info.height) == (6, 4)
    assert state.requests[-1].headers["Host"] == f"v6.test:{port}"
