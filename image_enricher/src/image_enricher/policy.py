"""Which URLs the analyzer may fetch, and which addresses it may connect to.

The checks follow go-camo and imgproxy (see docs/image-enricher.md): http/https only, no
userinfo, no IP-literal hosts, an exact allowlist of ``host`` or ``host:port`` on the parsed
hostname, then every address the name resolves to must be global and outside an explicit
denylist. The fetcher connects to an address validated here, never to the name again.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from image_enricher.errors import AnalysisError, ErrorCode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]
"""``resolver(host, port)``: the addresses ``host`` resolves to (raises ``OSError`` if none)."""

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("apod.nasa.gov", "mars.nasa.gov", "mars.jpl.nasa.gov")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

# ``ipaddress``'s is_global tables have been wrong before (CVE-2024-4032) and 100.64/10 is
# neither private nor global, so non-global addresses are refused AND these are listed.
DENIED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches localhost on Linux (imgproxy CVE-2025-24354)
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: cloud metadata 169.254.169.254, ECS 169.254.170.2
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped: checked again unwrapped
        "64:ff9b::/96",  # NAT64: embeds an IPv4 address
        "64:ff9b:1::/48",
        "100::/64",  # discard-only
        "2001::/32",  # Teredo: embeds an IPv4 address
        "2001:db8::/32",
        "2002::/16",  # 6to4: embeds an IPv4 address
        "fc00::/7",  # unique local, incl. the EC2 IMDS fd00:ec2::254
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)

_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_NUMERIC_LABEL_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


@dataclass(frozen=True)
class Target:
    """A URL that passed the checks, split into what the fetcher needs."""

    url: str
    scheme: str
    host: str
    port: int
    request_target: str
    """Path and query as sent on the request line (the fragment is never sent)."""

    @property
    def host_header(self) -> str:
        return self.host if self.port == DEFAULT_PORTS[self.scheme] else f"{self.host}:{self.port}"


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to for a TCP connection, in the system's order."""
    seen: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def is_ip_literal(host: str) -> bool:
    """True for anything a resolver or ``inet_aton`` would read as an address.

    That covers dotted quads and the forms ``inet_aton`` accepts (``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, ``127.1``) and IPv6, bracketed or not. A real hostname's
    last label is never all digits nor hexadecimal with ``0x``.
    """
    bare = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    if ":" in bare:
        return True
    try:
        socket.inet_aton(bare)
        return True
    except OSError:
        pass
    last_label = bare.rsplit(".", 1)[-1].lower()
    return bool(_NUMERIC_LABEL_RE.match(last_label))


def parse_allowed_hosts(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """``["apod.nasa.gov", "localhost:8080"]`` → ``{("apod.nasa.gov", None), ("localhost", 8080)}``.

    ``None`` as the port means "the scheme's default port only". IP literals are refused:
    the analyzer never fetches by address.
    """
    allowed: set[tuple[str, int | None]] = set()
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        host, sep, port_text = entry.rpartition(":") if ":" in entry else (entry, "", "")
        port: int | None = None
        if sep:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"allowed host {raw!r}: the port must be a number 1-65535")
            port = int(port_text)
        host = host.rstrip(".")
        if is_ip_literal(host):
            raise ValueError(f"allowed host {raw!r}: IP addresses are not allowed, use a hostname")
        if not _HOSTNAME_RE.match(host):
            raise ValueError(f"allowed host {raw!r} is not a valid hostname")
        allowed.add((host, port))
    return frozenset(allowed)


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs such as ``127.0.0.0/8,::1/128``; raises ``ValueError`` naming a bad entry."""
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as exc:
            raise ValueError(f"network {raw!r} is not a CIDR such as 127.0.0.0/8: {exc}") from exc
    return tuple(networks)


@dataclass(frozen=True)
class UrlPolicy:
    """The allowlist, the networks exempted from the address check, and the resolver."""

    allowed_hosts: frozenset[tuple[str, int | None]] = field(
        default_factory=lambda: parse_allowed_hosts(DEFAULT_ALLOWED_HOSTS)
    )
    allow_networks: tuple[IPNetwork, ...] = ()
    """Exempted from the address check: for tests and local demos only."""
    resolver: Resolver = system_resolver

    @classmethod
    def build(
        cls,
        allowed_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS,
        allow_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
    ) -> UrlPolicy:
        """A policy from the plain strings of settings; raises ``ValueError`` on a bad entry."""
        return cls(
            allowed_hosts=parse_allowed_hosts(allowed_hosts),
            allow_networks=parse_networks(allow_networks),
            resolver=resolver or system_resolver,
        )

    def check_url(self, url: str) -> Target:
        """Refuse anything but an absolute http(s) URL to an allowed host and port."""
        if not isinstance(url, str) or not url:
            raise AnalysisError(ErrorCode.INVALID_URL, "the URL must be a non-empty string")
        if len(url) > MAX_URL_LENGTH:
            raise AnalysisError(ErrorCode.INVALID_URL, f"the URL is over {MAX_URL_LENGTH} chars")
        if not url.isascii() or any(ch <= " " or ch == "\x7f" for ch in url):
            raise AnalysisError(
                ErrorCode.INVALID_URL, "the URL has spaces, control or non-ASCII characters"
            )
        if "\\" in url:
            # Browsers and some parsers read "\" as "/", others as part of the authority.
            raise AnalysisError(ErrorCode.INVALID_URL, "the URL contains a backslash")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise AnalysisError(
                ErrorCode.INVALID_URL, f"the URL cannot be parsed ({exc})"
            ) from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise AnalysisError(ErrorCode.INVALID_URL, "only http and https URLs are fetched")
        if "@" in parts.netloc:
            raise AnalysisError(ErrorCode.INVALID_URL, "URLs with a user or password are refused")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise AnalysisError(ErrorCode.INVALID_URL, "the URL has no host")
        if is_ip_literal(host) or parts.netloc.startswith("["):
            raise AnalysisError(ErrorCode.HOST_NOT_ALLOWED, "IP addresses are not fetched")
        if not _HOSTNAME_RE.match(host):
            raise AnalysisError(ErrorCode.INVALID_URL, "the host is not a valid hostname")
        effective_port = port if port is not None else DEFAULT_PORTS[scheme]
        default_port = effective_port == DEFAULT_PORTS[scheme]
        if (host, effective_port) not in self.allowed_hosts and not (
            default_port and (host, None) in self.allowed_hosts
        ):
            shown = host if port is None else f"{host}:{port}"
            raise AnalysisError(ErrorCode.HOST_NOT_ALLOWED, f"host {shown} is not allowed")
        request_target = parts.path or "/"
        if not request_target.startswith("/"):
            raise AnalysisError(ErrorCode.INVALID_URL, "the URL path must start with /")
        if parts.query:
            request_target += "?" + parts.query
        return Target(
            url=url,
            scheme=scheme,
            host=host,
            port=effective_port,
            request_target=request_target,
        )

    def check_address(self, address: IPAddress) -> None:
        """Refuse an address that is not global, or is in the denylist, unless exempted."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            for embedded in (address.ipv4_mapped, address.sixtofour):
                if embedded is not None:
                    candidates.append(embedded)
            if address.teredo is not None:
                candidates.extend(address.teredo)
        if any(candidate in network for candidate in candidates for network in self.allow_networks):
            return
        for candidate in candidates:
            if not candidate.is_global or any(candidate in net for net in DENIED_NETWORKS):
                raise AnalysisError(
                    ErrorCode.ADDRESS_NOT_ALLOWED,
                    "the host resolves to a private, loopback or reserved address",
                )

    def resolve(self, target: Target) -> list[IPAddress]:
        """Resolve once and validate every answer: one bad address refuses the host."""
        try:
            addresses = list(self.resolver(target.host, target.port))
        except (OSError, UnicodeError) as exc:
            raise AnalysisError(
                ErrorCode.DNS_ERROR, f"host {target.host} cannot be resolved ({type(exc).__name__})"
            ) from None
        if not addresses:
            raise AnalysisError(ErrorCode.DNS_ERROR, f"host {target.host} has no address")
        for address in addresses:
            self.check_address(address)
        return addresses
