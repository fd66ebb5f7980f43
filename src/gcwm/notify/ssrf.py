"""The egress guard every notification goes through: a URL is checked before each request, on the
addresses it resolves to at that moment, and the connection goes to the address that was checked.

- Schemes: https:, or http: to a loopback address (gcwm's own sink runs there).
- Refused unless the policy file sets `allowPrivateItsmTargets: true`: loopback (127/8, ::1: the
  host's own unauthenticated services, the embedded emulator's admin API among them), private (10/8,
  172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10, the local-use NAT64 prefix 64:ff9b:1::/48),
  link-local (169.254/16, fe80::/10: so also the cloud metadata address 169.254.169.254) and
  unspecified (0/8, ::) addresses. Multicast, broadcast and every other address that is not
  globally reachable (IANA's special-purpose registries: benchmarking, documentation/TEST-NET, IETF
  protocol assignments, Teredo, discard-only...) are always refused; an address the table misses
  but `ipaddress` does not call global is refused too. IPv4 inside IPv6 (mapped ::ffff:a.b.c.d,
  translated ::ffff:0:a.b.c.d, 6to4, NAT64 64:ff9b::/96) is judged as the IPv4 it carries.
- Every resolved address must pass, not just the first: a name with one private address is refused.
- DNS rebinding cannot pass: the request is sent to the checked IP (the URL's host replaced by it),
  with the name kept in the Host header and as the TLS server name (`sni_hostname`, which httpcore
  also verifies the certificate against). There is no second lookup to rebind.
- Redirects are never followed (a 3xx is a failure; where it pointed is judged for the message);
  answers are read up to a size cap; the whole exchange has one timeout. Environment proxies are
  ignored (`trust_env=False`), so HTTP(S)_PROXY cannot route around the checks.

The resolver is a plain function host -> addresses, so tests can make a name resolve anywhere.
`classify_host` judges what can be judged without resolving (address literals, `localhost` names),
for the policy check before any write; the guard judges everything again at delivery.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import httpx

from gcwm import __version__
from gcwm.notify.delivery import Answer, DeliveryError, TargetRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
AddressKind = Literal["public", "loopback", "private", "link-local", "unspecified", "reserved"]

DEFAULT_TIMEOUT_S = 15.0  # Svix answers within 15 s or fails; Standard Webhooks suggests 15-30 s
MAX_RESPONSE_BYTES = 64 * 1024

# First match wins: a narrower range comes before the one holding it (Teredo before 2001::/23).
_NETWORKS: tuple[tuple[AddressKind, str], ...] = (
    ("unspecified", "0.0.0.0/8"),
    ("unspecified", "::/128"),
    ("loopback", "127.0.0.0/8"),
    ("loopback", "::1/128"),
    ("private", "10.0.0.0/8"),
    ("private", "172.16.0.0/12"),
    ("private", "192.168.0.0/16"),
    ("private", "100.64.0.0/10"),  # carrier-grade NAT: not the public internet either
    ("private", "fc00::/7"),
    ("private", "fec0::/10"),  # site-local (deprecated by RFC 3879, but site-scoped where still used)
    ("private", "64:ff9b:1::/48"),  # local-use IPv4/IPv6 translation (RFC 8215): a site's own NAT64
    ("link-local", "169.254.0.0/16"),
    ("link-local", "fe80::/10"),
    ("reserved", "192.0.0.0/24"),  # IETF protocol assignments (RFC 6890)
    ("reserved", "192.0.2.0/24"),  # TEST-NET-1 (RFC 5737)
    ("reserved", "192.88.99.0/24"),  # 6to4 relay anycast (deprecated by RFC 7526)
    ("reserved", "198.18.0.0/15"),  # benchmarking (RFC 2544)
    ("reserved", "198.51.100.0/24"),  # TEST-NET-2
    ("reserved", "203.0.113.0/24"),  # TEST-NET-3
    ("reserved", "224.0.0.0/4"),  # multicast
    ("reserved", "240.0.0.0/4"),  # reserved, and the broadcast address
    ("reserved", "::/96"),  # IPv4-compatible (deprecated)
    ("reserved", "::/8"),  # the rest of the IETF-reserved block (translated/NAT64 are judged before)
    ("reserved", "100::/64"),  # discard-only (RFC 6666)
    ("reserved", "2001::/32"),  # Teredo: its client address is obfuscated, nothing to judge it by
    ("reserved", "2001::/23"),  # IETF protocol assignments (benchmarking 2001:2::/48, ORCHID...)
    ("reserved", "2001:db8::/32"),  # documentation (RFC 3849)
    ("reserved", "3fff::/20"),  # documentation (RFC 9637)
    ("reserved", "5f00::/16"),  # SRv6 segment identifiers (RFC 9602)
    ("reserved", "ff00::/8"),  # multicast
)
_KINDS = tuple((kind, ipaddress.ip_network(net)) for kind, net in _NETWORKS)
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765 SIIT)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix (RFC 6052)
_REFUSABLE: frozenset[AddressKind] = frozenset({"loopback", "private", "link-local", "unspecified"})
# IPv4 as getaddrinfo (inet_aton) also reads it: 1 to 4 parts, decimal, octal or hex (127.1, 2130706433).
_IPV4_LEGACY = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def classify(address: IPAddress) -> tuple[AddressKind, str]:
    """What kind of address this is, and the network that says so ("" for public)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and (address in _NAT64 or address in _TRANSLATED):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return classify(embedded)
    for kind, network in _KINDS:
        if address.version == network.version and address in network:
            return kind, str(network)
    if not address.is_global:
        # A range the table does not name yet (ipaddress follows IANA's registries as they grow).
        return "reserved", "not globally reachable"
    return "public", ""


def classify_host(host: str) -> tuple[AddressKind, str] | None:
    """What kind of address a URL's host is, where that needs no lookup: an IP literal (in any form
    getaddrinfo accepts), or `localhost` and its subdomains (RFC 6761: always loopback); None for a
    name, which is judged on what it resolves to at delivery."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback", "localhost (RFC 6761)"
    try:
        return classify(ipaddress.ip_address(name.split("%", 1)[0]))
    except ValueError:
        pass
    if _IPV4_LEGACY.match(name):
        try:
            return classify(ipaddress.IPv4Address(socket.inet_aton(name)))
        except OSError:
            return None
    return None


def address_refusal(kind: AddressKind, network: str, *, allow_private: bool) -> str | None:
    """Why an address of this kind is no target ("is a ..."), or None if it may be one."""
    if kind == "reserved":
        return f"a multicast, broadcast or reserved address ({network})"
    if kind in _REFUSABLE and not allow_private:
        what = f"{'an' if kind == 'unspecified' else 'a'} {kind} address ({network})"
        if kind == "link-local":
            what += ", where cloud metadata services answer"
        return (
            f"{what}; gcwm does not send notifications to loopback, private, link-local or unspecified"
            " addresses unless the policy file sets allowPrivateItsmTargets: true"
        )
    return None


def system_resolver(host: str) -> list[str]:
    """The host's addresses from the system resolver (getaddrinfo), in its order, without repeats."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class EgressGuard:
    """Judges URLs and addresses by the rules above."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self._resolver = resolver or system_resolver

    async def check(self, url: httpx.URL) -> IPAddress:
        """The address to connect to for `url`; TargetRefused says why not, DeliveryError if the
        name does not resolve now."""
        shown = str(url.copy_with(query=None, fragment=None))
        if url.scheme not in ("https", "http"):
            msg = f"{shown}: only https: URLs are used (or http: to a loopback address)"
            raise TargetRefused(msg)
        host = url.raw_host.decode("ascii")
        if not host:
            msg = f"{shown}: the URL has no host"
            raise TargetRefused(msg)
        addresses = await self._resolve(host, shown)
        for address in addresses:
            self._judge(address, url.scheme, host, shown)
        return addresses[0]

    async def _resolve(self, host: str, shown: str) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            found = await asyncio.to_thread(self._resolver, host)
        except OSError as exc:
            msg = f"{shown}: {host} does not resolve ({exc.strerror or exc})"
            raise DeliveryError(msg) from exc
        addresses = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError as exc:
                msg = f"{shown}: {host} resolved to {text!r}, which is not an IP address"
                raise TargetRefused(msg) from exc
        if not addresses:
            msg = f"{shown}: {host} resolves to no address"
            raise DeliveryError(msg)
        return addresses

    def _judge(self, address: IPAddress, scheme: str, host: str, shown: str) -> None:
        kind, network = classify(address)
        via = "" if host == str(address) else f" resolves to {address}, which is"
        refusal = address_refusal(kind, network, allow_private=self.allow_private)
        if refusal is not None:
            msg = f"{shown}{via or ' is'} {refusal}" + ("; refused" if kind == "reserved" else "")
            raise TargetRefused(msg)
        if scheme == "http" and kind != "loopback":
            where = f"{host} is {address}" if via else f"{host} is not one"
            msg = f"{shown}: http: is used only to a loopback address (127.0.0.0/8, ::1)"
            msg += f", and {where}; use https:"
            raise TargetRefused(msg)

    async def describe_refusal(self, url: httpx.URL) -> str:
        """Why `url` would be refused ("" if it would not be, or cannot be told now)."""
        try:
            await self.check(url)
        except TargetRefused as exc:
            return exc.message
        except DeliveryError:
            return ""
        return ""


class GuardedClient:
    """An httpx client that sends only where the guard allows, to the address it checked; `tls` is
    the context certificates are verified with (default: httpx's, the certifi bundle)."""

    def __init__(
        self,
        guard: EgressGuard,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.guard = guard
        self.timeout_s = timeout_s
        self._max_bytes = max_response_bytes
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            verify=tls if tls is not None else True,
            # Connections are keyed by the IP connected to; reusing one across host names would send a
            # request over TLS verified for another name. Notifications are few: one connection each.
            limits=httpx.Limits(max_keepalive_connections=0),
            # identity: the size cap then counts the bytes that arrive, and no decompression bomb.
            headers={"user-agent": f"gcwm/{__version__}", "accept-encoding": "identity"},
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request through the guard; the answer (any status), or DeliveryError if none came."""
        target = httpx.URL(url, params=params) if params else httpx.URL(url)
        what = f"{method} {target.copy_with(query=None)}"
        address = await self.guard.check(target)
        direct = target.copy_with(host=str(address))
        sent = {**(headers or {}), "host": target.netloc.decode("ascii")}
        extensions = {}
        if target.scheme == "https" and target.raw_host.decode("ascii") != str(address):
            extensions["sni_hostname"] = target.raw_host.decode("ascii")
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await self._exchange(method, direct, sent, content, extensions)
        except (TimeoutError, httpx.TimeoutException) as exc:
            msg = f"{what}: no answer within {self.timeout_s:g} s"
            raise DeliveryError(msg) from exc
        except httpx.HTTPError as exc:
            msg = f"{what}: {type(exc).__name__}: {exc or 'connection failed'}"
            raise DeliveryError(msg) from exc
        if 300 <= answer.status < 400 and answer.headers.get("location"):
            location = target.join(answer.headers["location"])
            note = await self.guard.describe_refusal(location)
            if note:
                answer = Answer(answer.status, answer.headers, answer.body, answer.truncated, note)
        return answer

    async def _exchange(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        content: bytes | None,
        extensions: dict[str, str],
    ) -> Answer:
        request = self._http.build_request(
            method, url, headers=headers, content=content, extensions=extensions
        )
        response = await self._http.send(request, stream=True)
        try:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > self._max_bytes:
                    truncated = True
                    del body[self._max_bytes :]
                    break
        finally:
            await response.aclose()
        return Answer(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=bytes(body),
            truncated=truncated,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
