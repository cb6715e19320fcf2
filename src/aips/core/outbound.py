"""Outbound HTTP from the server, guarded against server-side request forgery. The one place
AIPS reaches out to an address somebody typed in (a CSAF provider's feed, a partner's TAXII
collection); the worker does it, never a web request.

- A URL is checked before anything is resolved: `https` (`http` only with a test setting), no
  user name or password in it (nor a query or fragment where the caller says so), the host on
  the caller's allow-list (`Policy.hosts`, from an environment setting named in the refusal).
- The host name is resolved once and every address it has must be public (no loopback, private,
  link-local, multicast, reserved or unspecified address) unless the test setting allows them;
  the connection goes to that checked address, with the host name for TLS (SNI, certificate
  check) and the `Host` header, so a second DNS answer (rebinding) is never used.
- No redirects here (a caller that follows them checks each `Location` with `check_url` again);
  no retries; connect and read timeouts and a deadline; at most `max_bytes` per answer, counted
  while reading.

urllib3 directly (what `requests` runs on): it lets the connection go to the checked address
and the body be read in bounded pieces."""

import ipaddress
import socket
import time
from dataclasses import dataclass

import urllib3
from django.utils.translation import gettext as _

__all__ = ["OutboundRefused", "Policy", "Reply", "Target", "check_url", "get", "resolve"]


class OutboundRefused(Exception):
    """Why nothing was fetched, in words for the page that shows the failure."""


@dataclass(frozen=True)
class Policy:
    hosts: frozenset[str]
    allow_http: bool = False
    allow_private: bool = False
    max_bytes: int = 10 * 1024 * 1024
    timeout: float = 20.0
    hosts_setting: str = ""  # the environment setting holding `hosts`, named in the refusal
    allow_query: bool = True  # False: a query or fragment in the URL is refused


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query, if any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes  # read only for 200


def check_url(url: str, policy: Policy) -> Target:
    """The URL's parts if AIPS may fetch it at all, else OutboundRefused (nothing resolved)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(_("The URL is not valid.")) from exc
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise OutboundRefused(_("Only https:// URLs are fetched."))
    if parts.username or parts.password:
        raise OutboundRefused(_("The URL must not carry a user name or password."))
    if not policy.allow_query and (parts.query or parts.fragment):
        raise OutboundRefused(_("The URL must not carry a query or a fragment."))
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or host not in policy.hosts:
        raise OutboundRefused(
            _("The host %(host)s is not on the allow-list (%(setting)s).")
            % {"host": host or "-", "setting": policy.hosts_setting or "-"}
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(target: Target, policy: Policy) -> str:
    """The one address to connect to: every address the name has must pass, or none is used."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise OutboundRefused(
            _("The host name %(host)s does not resolve.") % {"host": target.host}
        ) from exc
    # IPv4 first: a host without an IPv6 route would otherwise fail on a name that has both.
    addresses = sorted({str(info[4][0]) for info in infos}, key=lambda a: (":" in a, a))
    if not addresses:
        raise OutboundRefused(_("The host name %(host)s does not resolve.") % {"host": target.host})
    if not policy.allow_private and not all(_public(a) for a in addresses):
        raise OutboundRefused(
            _("The host %(host)s resolves to an address that is not public; it is not fetched.")
            % {"host": target.host}
        )
    return addresses[0]


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return _("%(n)s MiB") % {"n": f"{n / (1024 * 1024):.3g}"}
    return _("%(n)s KiB") % {"n": f"{n / 1024:.3g}"}


def too_big(size: int, limit: int) -> str:
    return _("The answer is larger than the limit of %(limit)s (at least %(size)s).") % {
        "limit": _size(limit),
        "size": _size(size),
    }


def get(
    target: Target,
    *,
    policy: Policy,
    deadline: float,
    headers: dict[str, str],
    address: str | None = None,
    path: str | None = None,
) -> Reply:
    """One GET to the checked address (resolved here unless given): the status, the headers
    and, for 200, the body within `policy.max_bytes` and the deadline."""
    address = address or resolve(target, policy)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundRefused(_("The server did not answer in time."))
    timeout = urllib3.Timeout(connect=min(remaining, 10.0), read=min(remaining, policy.timeout))
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    body = bytearray()
    try:
        reply = pool.urlopen(
            "GET",
            path or target.path,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            retries=False,
            timeout=timeout,
        )
        try:
            if reply.status == 200:
                declared = reply.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > policy.max_bytes:
                    raise OutboundRefused(too_big(int(declared), policy.max_bytes))
                for chunk in reply.stream(65536):
                    body.extend(chunk)
                    if len(body) > policy.max_bytes:
                        raise OutboundRefused(too_big(len(body), policy.max_bytes))
                    if time.monotonic() > deadline:
                        raise OutboundRefused(_("The server did not answer in time."))
        finally:
            reply.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise OutboundRefused(
            _("The server could not be reached: %(error)s") % {"error": type(exc).__name__}
        ) from exc
    finally:
        pool.close()
    return Reply(
        status=reply.status,
        headers={k.lower(): v for k, v in reply.headers.items()},
        body=bytes(body),
    )
