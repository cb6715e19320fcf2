"""Fetching CSAF files from providers: the platform's guarded outbound fetch (`core.outbound`:
allow-list, public addresses only, the checked address pinned, bounded answers) with the CSAF
settings — hosts on `AIPS_CSAF_PROVIDER_HOSTS`, `http` only with `AIPS_CSAF_ALLOW_HTTP` and
private addresses only with `AIPS_CSAF_ALLOW_PRIVATE` (tests), at most `MAX_BYTES` (32 MiB, the
importer's own limit) per file — and redirects followed only to URLs that pass the same checks,
at most `MAX_REDIRECTS`. The worker does this, never a web request."""

import time
from urllib.parse import urljoin

from django.conf import settings
from django.utils.translation import gettext as _

from aips.center.alerts.importers import MAX_BYTES
from aips.core.outbound import OutboundRefused, Policy, check_url, get

__all__ = ["FetchRefused", "Policy", "check_url", "fetch", "policy"]

MAX_REDIRECTS = 3
USER_AGENT = "AIPS CSAF importer"
FetchRefused = OutboundRefused


def policy() -> Policy:
    """The policy of the settings, read at each use so that tests can change them."""
    return Policy(
        hosts=frozenset(h.lower().rstrip(".") for h in settings.AIPS_CSAF_PROVIDER_HOSTS),
        allow_http=settings.AIPS_CSAF_ALLOW_HTTP,
        allow_private=settings.AIPS_CSAF_ALLOW_PRIVATE,
        max_bytes=MAX_BYTES,
        timeout=float(settings.AIPS_CSAF_FETCH_TIMEOUT_SECONDS),
        hosts_setting="AIPS_CSAF_PROVIDER_HOSTS",
    )


def fetch(url: str, rules: Policy | None = None) -> bytes:
    """The body of `url` (HTTP 200), following redirects only within the allow-list."""
    rules = rules or policy()
    deadline = time.monotonic() + rules.timeout
    current = url
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for _hop in range(MAX_REDIRECTS + 1):
        reply = get(check_url(current, rules), policy=rules, deadline=deadline, headers=headers)
        location = reply.headers.get("location", "")
        if reply.status in (301, 302, 303, 307, 308) and location:
            # The next URL passes the same checks (scheme, allow-list, public address).
            current = urljoin(current, location)
            continue
        if reply.status != 200:
            raise FetchRefused(
                _("The provider answered HTTP %(status)d.") % {"status": reply.status}
            )
        return reply.body
    raise FetchRefused(_("Too many redirects (more than %(n)d).") % {"n": MAX_REDIRECTS})
