"""Fetching a partner's TAXII 2.1 collection, guarded against server-side request forgery: the
server reaches out only to host names on an allow-list, over HTTPS, to public addresses, and
reads bounded answers within a deadline.

- The URL is checked before anything is resolved: scheme (`https`; `http` only with the test
  setting), no user name or password in it, no query or fragment, host on the list.
- The host name is resolved once and every address it resolves to must be public (no loopback,
  private, link-local, multicast, reserved or unspecified address) unless the test setting
  allows them; the connection then goes to that checked address, with the host name for TLS
  (SNI and certificate check) and the `Host` header, so a second, different DNS answer
  (rebinding) is never used.
- No redirects are followed (a 3xx is a failure); no retries; connect and read timeouts and a
  deadline for the whole poll; at most `max_bytes` per answer and `max_objects` per poll.

The checks and the bounded GET are the platform's (`core.outbound`), shared with the CSAF
provider fetch.

Plain HTTP with urllib3 rather than taxii2-client: the client cannot pin the checked address or
bound a body's size. Settings come in as a `Policy`; no models here."""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from aips.center.exchange.taxii import TAXII_TYPE, parse_timestamp, timestamp
from aips.core.outbound import OutboundRefused, Policy, Target, check_url, get, resolve

__all__ = ["FetchRefused", "Fetched", "Policy", "check_url", "fetch_objects", "resolve"]

PAGE_LIMIT = 500
MAX_PAGES = 50
FetchRefused = OutboundRefused


@dataclass
class Fetched:
    objects: list[dict[str, Any]] = field(default_factory=list)
    added_last: datetime | None = None
    pages: int = 0
    bytes: int = 0


def get_json(
    target: Target,
    address: str,
    path_and_query: str,
    *,
    headers: dict[str, str],
    policy: Policy,
    deadline: float,
) -> tuple[dict[str, Any], dict[str, str], int]:
    """One GET to the checked address: the JSON object, the response headers, bytes read."""
    reply = get(
        target,
        policy=policy,
        deadline=deadline,
        headers=headers,
        address=address,
        path=path_and_query,
    )
    if reply.status != 200:
        raise FetchRefused(_("The partner answered HTTP %(status)d.") % {"status": reply.status})
    try:
        parsed = json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FetchRefused(_("The partner's answer is not JSON.")) from exc
    if not isinstance(parsed, dict):
        raise FetchRefused(_("The partner's answer is not a TAXII envelope."))
    return parsed, reply.headers, len(reply.body)


def fetch_objects(
    *,
    api_root_url: str,
    collection_id: str,
    added_after: datetime | None,
    authorization: str,
    policy: Policy,
    max_objects: int = 5000,
) -> Fetched:
    """Every object the partner added to the collection after `added_after`, following `next`
    to the end (within the limits), and the partner's last `date_added` seen."""
    root = api_root_url if api_root_url.endswith("/") else api_root_url + "/"
    target = check_url(f"{root}collections/{collection_id}/objects/", policy)
    address = resolve(target, policy)
    headers = {"Accept": TAXII_TYPE, "User-Agent": "AIPS TAXII poller"}
    if authorization:
        headers["Authorization"] = authorization
    deadline = time.monotonic() + policy.timeout * 3
    out = Fetched()
    cursor: str | None = None
    for _page in range(MAX_PAGES):
        query: dict[str, str] = {"limit": str(PAGE_LIMIT)}
        if added_after is not None:
            query["added_after"] = timestamp(added_after)
        if cursor:
            query["next"] = cursor
        envelope, reply_headers, size = get_json(
            target,
            address,
            f"{target.path}?{urlencode(query)}",
            headers=headers,
            policy=policy,
            deadline=deadline,
        )
        out.pages += 1
        out.bytes += size
        objects = envelope.get("objects") or []
        if not isinstance(objects, list):
            raise FetchRefused(_("The partner's answer is not a TAXII envelope."))
        out.objects.extend(o for o in objects if isinstance(o, dict))
        if len(out.objects) > max_objects:
            raise FetchRefused(
                _("The partner sent more than %(n)d objects in one poll.") % {"n": max_objects}
            )
        last = parse_timestamp(reply_headers.get("x-taxii-date-added-last", ""))
        if last is not None and (out.added_last is None or last > out.added_last):
            out.added_last = last
        cursor = envelope.get("next")
        if not envelope.get("more") or not isinstance(cursor, str) or not cursor:
            return out
    raise FetchRefused(_("The partner's collection has more than %(n)d pages.") % {"n": MAX_PAGES})
