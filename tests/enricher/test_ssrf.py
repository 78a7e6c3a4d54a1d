"""The SSRF matrix: every URL here is refused with the right code, directly and via redirect.

No test sends traffic anywhere but loopback: names resolve through an injected resolver, and
the dial is observed (and, for "public" answers, mapped to the local image server).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import quote

import pytest
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st
from image_enricher.errors import AnalysisError, ErrorCode
from image_enricher.fetch import ImageAnalyzer, connect_to_address
from image_enricher.policy import IPAddress, Target, UrlPolicy

from tests.imageserver import ImageServer

PUBLIC = "93.184.216.34"  # never dialled: the connector maps it to the local server

# Names the fake resolver knows; every one of them is on the allowlist of the matrix policy.
ANSWERS: dict[str, list[str]] = {
    "localhost": ["127.0.0.2"],
    "metadata.test": ["169.254.169.254"],
    "ecs.test": ["169.254.170.2"],
    "imds6.test": ["fd00:ec2::254"],
    "ten.test": ["10.1.2.3"],
    "oneseventwo.test": ["172.16.5.4"],
    "oneninetwo.test": ["192.168.0.10"],
    "cgnat.test": ["100.64.1.1"],
    "zero.test": ["0.0.0.0"],
    "loop6.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.2"],
    "mapped-private.test": ["::ffff:10.0.0.1"],
    "linklocal6.test": ["fe80::1"],
    "nat64.test": ["64:ff9b::7f00:2"],
    "sixtofour.test": ["2002:7f00:2::1"],
    "multicast.test": ["224.0.0.1"],
    "mixed.test": [PUBLIC, "127.0.0.2"],
}


def fake_resolver(host: str, port: int) -> Sequence[IPAddress]:
    if host not in ANSWERS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [ipaddress.ip_address(answer) for answer in ANSWERS[host]]


def refusing_connector(*args: object) -> urllib3.HTTPConnectionPool:
    raise AssertionError("a refused URL must never be dialled")


def matrix_policy(port: int, resolver=fake_resolver) -> UrlPolicy:  # type: ignore[no-untyped-def]
    allowed = ["apod.nasa.gov", "mars.jpl.nasa.gov", f"localhost:{port}"]
    allowed += [f"unresolvable.test:{port}", f"start.test:{port}"]
    allowed += [f"{name}:{port}" for name in ANSWERS if name != "localhost"]
    # Only the image server's own address is exempted, so the matrix's loopback answers
    # (127.0.0.2, ::1, mapped and embedded forms) stay refused.
    return UrlPolicy.build(allowed, ["127.0.0.1/32"], resolver=resolver)


def matrix(port: int) -> list[tuple[str, ErrorCode]]:
    p = port
    host_not_allowed = [
        # loopback in every spelling: IP literals are never fetched
        f"http://127.0.0.1:{p}/a.jpg",
        f"http://127.1:{p}/a.jpg",
        f"http://2130706433:{p}/a.jpg",
        f"http://0x7f000001:{p}/a.jpg",
        f"http://0x7f.0.0.1:{p}/a.jpg",
        f"http://0177.0.0.1:{p}/a.jpg",
        f"http://017700000001:{p}/a.jpg",
        f"http://127.000.000.001:{p}/a.jpg",
        f"http://[::1]:{p}/a.jpg",
        f"http://[0:0:0:0:0:0:0:1]:{p}/a.jpg",
        f"http://[::ffff:127.0.0.1]:{p}/a.jpg",
        f"http://[::ffff:7f00:1]:{p}/a.jpg",
        f"http://0.0.0.0:{p}/a.jpg",
        f"http://0:{p}/a.jpg",
        # cloud metadata and private ranges as literals
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/a.jpg",
        "http://172.16.0.1/a.jpg",
        "http://192.168.1.1/a.jpg",
        "http://100.64.0.1/a.jpg",
        "http://[fe80::1]/a.jpg",
        # names not on the allowlist, and look-alikes
        "https://apod.nasa.gov.evil.test/a.jpg",
        "https://evilapod.nasa.gov/a.jpg",
        "https://nasa.gov/a.jpg",
        f"http://127.0.0.1:{p}#@apod.nasa.gov/a.jpg",
        "http://evil.test#.apod.nasa.gov/a.jpg",
        "http://evil.test?.apod.nasa.gov/a.jpg",
        # wrong ports on allowed hosts
        "http://apod.nasa.gov:22/a.jpg",
        "https://apod.nasa.gov:8443/a.jpg",
        "http://apod.nasa.gov:443/a.jpg",
        f"http://localhost:{p + 1}/a.jpg",
        "http://localhost/a.jpg",
    ]
    invalid_url = [
        # userinfo tricks
        f"http://apod.nasa.gov@localhost:{p}/a.jpg",
        "http://apod.nasa.gov@127.0.0.1/a.jpg",
        "http://user:pass@apod.nasa.gov/a.jpg",
        "http://apod.nasa.gov:80@169.254.169.254/",
        "http://:@apod.nasa.gov/a.jpg",
        # backslash, encoding and control-character tricks
        "http://apod.nasa.gov\\@127.0.0.1/a.jpg",
        "http://127.0.0.1\\.apod.nasa.gov/a.jpg",
        "http://%61pod.nasa.gov/a.jpg",
        "http://apod.nasa.gov%00.evil.test/a.jpg",
        "http://apod.nasa.gov\t/a.jpg",
        "http://apod.nasa.gov /a.jpg",
        "http://apod.nasa.gov\n.evil.test/a.jpg",
        "http://\u0430pod.nasa.gov/a.jpg",  # a Cyrillic a: a homograph of apod
        "http://apod.nasa.gov:99999/a.jpg",
        # non-http schemes and non-URLs
        "file:///etc/passwd",
        "file://apod.nasa.gov/etc/passwd",
        "ftp://apod.nasa.gov/a.jpg",
        "gopher://apod.nasa.gov:70/_GET%20/",
        "dict://apod.nasa.gov:11211/stat",
        "ldap://apod.nasa.gov/",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "//apod.nasa.gov/a.jpg",
        "apod.nasa.gov/a.jpg",
        "",
        "http:///a.jpg",
    ]
    address_not_allowed = [f"http://{name}:{p}/a.jpg" for name in ANSWERS]
    return (
        [(url, ErrorCode.HOST_NOT_ALLOWED) for url in host_not_allowed]
        + [(url, ErrorCode.INVALID_URL) for url in invalid_url]
        + [(url, ErrorCode.ADDRESS_NOT_ALLOWED) for url in address_not_allowed]
        + [(f"http://unresolvable.test:{p}/a.jpg", ErrorCode.DNS_ERROR)]
    )


PORT = 8765  # the matrix's own URLs never connect, so any port does for the direct cases
MATRIX = matrix(PORT)


def test_the_matrix_is_big_enough() -> None:
    assert len(MATRIX) >= 40
    assert len({url for url, _ in MATRIX}) == len(MATRIX)


@pytest.mark.parametrize(("url", "code"), MATRIX, ids=[repr(u)[:60] for u, _ in MATRIX])
def test_refused_directly(url: str, code: ErrorCode) -> None:
    analyzer = ImageAnalyzer(matrix_policy(PORT), connector=refusing_connector)
    with pytest.raises(AnalysisError) as refused:
        analyzer.analyze(url)
    assert refused.value.code == code


# A Location header is ASCII without controls; a relative one ("//host/x", "x/y") is resolved
# against the current URL as RFC 3986 says, so only absolute URLs make sense as targets.
REDIRECTABLE = [
    (u, c)
    for u, c in matrix(0)
    if u.isascii()
    and ":" in u
    and not u.startswith("//")
    and not any(ch in u for ch in "\t\n ")
    and u != "http:///a.jpg"
]


@pytest.fixture(scope="module")
def redirect_server() -> ImageServer:
    with ImageServer() as server:
        yield server  # type: ignore[misc]


@pytest.mark.parametrize(
    ("template_url", "code"), REDIRECTABLE, ids=[repr(u)[:60] for u, _ in REDIRECTABLE]
)
def test_refused_after_a_redirect(
    redirect_server: ImageServer, template_url: str, code: ErrorCode
) -> None:
    port = redirect_server.port
    templates, urls = [u for u, _ in matrix(0)], [u for u, _ in matrix(port)]
    target_url = dict(zip(templates, urls, strict=True))[template_url]
    resolver_answers = {**ANSWERS, "start.test": ["127.0.0.1"]}

    def resolver(host: str, p: int) -> Sequence[IPAddress]:
        if host not in resolver_answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in resolver_answers[host]]

    dialled: list[str] = []

    def connector(target: Target, address: IPAddress, timeout, watchdog):  # type: ignore[no-untyped-def]
        dialled.append(str(address))
        return connect_to_address(target, address, timeout, watchdog)

    policy = matrix_policy(port, resolver)
    start = f"http://start.test:{port}/redirect?to={quote(target_url, safe='')}"
    with pytest.raises(AnalysisError) as refused:
        ImageAnalyzer(policy, connector=connector).analyze(start)
    assert refused.value.code == code
    assert dialled == ["127.0.0.1"]  # the first hop only: the refused target is never dialled


class _Rebinding:
    """Answers a public address first, then loopback: the classic DNS-rebinding resolver."""

    def __init__(self, second: str = "127.0.0.2") -> None:
        self.calls: list[str] = []
        self.second = second

    def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append(host)
        answer = PUBLIC if len(self.calls) == 1 else self.second
        return [ipaddress.ip_address(answer)]


def _mapping_connector(server: ImageServer, dialled: list[str]):  # type: ignore[no-untyped-def]
    """Records the validated address, then dials the local server instead (never the public IP)."""

    def connector(target: Target, address: IPAddress, timeout, watchdog):  # type: ignore[no-untyped-def]
        dialled.append(str(address))
        return connect_to_address(target, ipaddress.ip_address("127.0.0.1"), timeout, watchdog)

    return connector


def test_dns_rebinding_cannot_swap_the_address_after_the_check(
    redirect_server: ImageServer,
) -> None:
    resolver = _Rebinding()
    dialled: list[str] = []
    policy = UrlPolicy.build([f"cdn.test:{redirect_server.port}"], resolver=resolver)
    analyzer = ImageAnalyzer(policy, connector=_mapping_connector(redirect_server, dialled))

    info = analyzer.analyze(f"http://cdn.test:{redirect_server.port}/a.jpg?w=64&h=48")

    assert (info.width, info.height) == (64, 48)
    assert resolver.calls == ["cdn.test"]  # resolved once: no second lookup to rebind
    assert dialled == [PUBLIC]  # the connection goes to the address that was validated
    assert redirect_server.requests[-1].headers["Host"] == f"cdn.test:{redirect_server.port}"


def test_dns_rebinding_through_a_redirect_is_refused(redirect_server: ImageServer) -> None:
    resolver = _Rebinding()
    dialled: list[str] = []
    port = redirect_server.port
    policy = UrlPolicy.build([f"cdn.test:{port}"], resolver=resolver)
    analyzer = ImageAnalyzer(policy, connector=_mapping_connector(redirect_server, dialled))
    again = quote(f"http://cdn.test:{port}/a.jpg", safe="")

    with pytest.raises(AnalysisError) as refused:
        analyzer.analyze(f"http://cdn.test:{port}/redirect?to={again}")

    assert refused.value.code == ErrorCode.ADDRESS_NOT_ALLOWED
    assert resolver.calls == ["cdn.test", "cdn.test"]  # every hop resolves and is checked
    assert dialled == [PUBLIC]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fd00:ec2::254", "::ffff:10.0.0.1"],
)
def test_private_networks_exemption_is_needed_to_reach_a_private_address(address: str) -> None:
    ip = ipaddress.ip_address(address)
    with pytest.raises(AnalysisError) as refused:
        UrlPolicy.build().check_address(ip)
    assert refused.value.code == ErrorCode.ADDRESS_NOT_ALLOWED
    network = f"{address}/{ip.max_prefixlen}"
    UrlPolicy.build(allow_networks=[network]).check_address(ip)  # no error


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_global_addresses_pass(address: str) -> None:
    UrlPolicy.build().check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("127.0.0.1", "IP addresses"),
        ("[::1]:80", "IP addresses"),
        ("host:http", "port"),
        ("bad_host", "not a valid hostname"),
    ],
)
def test_allowlist_entries_are_checked(entry: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        UrlPolicy.build([entry])


def test_the_request_carries_the_host_name_and_asks_for_a_range(
    redirect_server: ImageServer,
) -> None:
    policy = UrlPolicy.build([redirect_server.authority], ["127.0.0.1/32"])
    ImageAnalyzer(policy).analyze(redirect_server.url("/host-check.png", w=10, h=10))
    request = [r for r in redirect_server.requests if r.path.startswith("/host-check.png")][-1]
    assert request.headers["Host"] == redirect_server.authority
    assert request.headers["Range"].startswith("bytes=0-")


@settings(max_examples=200)
@given(number=st.integers(0, 2**32 - 1), style=st.sampled_from(["int", "hex", "octal", "short"]))
def test_every_spelling_of_an_ipv4_address_is_an_ip_literal(number: int, style: str) -> None:
    octets = number.to_bytes(4, "big")
    host = {
        "int": str(number),
        "hex": hex(number),
        "octal": ".".join(f"0{o:o}" for o in octets),
        "short": f"{octets[0]}.{int.from_bytes(octets[1:], 'big')}",
    }[style]
    with pytest.raises(AnalysisError) as refused:
        UrlPolicy.build().check_url(f"http://{host}/a.jpg")
    assert refused.value.code == ErrorCode.HOST_NOT_ALLOWED


DENIED_SAMPLES = st.sampled_from(
    [
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    ]
).flatmap(
    lambda cidr: st.integers(0, ipaddress.ip_network(cidr).num_addresses - 1).map(
        lambda offset, cidr=cidr: ipaddress.ip_network(cidr)[offset]
    )
)


@given(address=DENIED_SAMPLES, mapped=st.booleans())
def test_every_address_of_the_denied_ranges_is_refused(address: IPAddress, mapped: bool) -> None:
    if mapped and address.version == 4:
        address = ipaddress.ip_address(f"::ffff:{address}")
    with pytest.raises(AnalysisError) as refused:
        UrlPolicy.build().check_address(address)
    assert refused.value.code == ErrorCode.ADDRESS_NOT_ALLOWED
