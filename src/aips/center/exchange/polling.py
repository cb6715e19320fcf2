"""The worker's partner polls: take a due source (`services.partner_claim_due`, its own short
transaction), fetch its collection outside any transaction (a slow partner must not hold a
database lock; on SQLite a transaction is the whole database's write lock), then record what
came in (`services.partner_poll_record`, one transaction, one journal entry)."""

import base64

from django.conf import settings

from aips.center.exchange import credentials, partner, services
from aips.center.exchange.models import PartnerSource
from aips.core.logging import get_logger

log = get_logger("aips.exchange.poll")

# Sources polled per round of the job, so one round stays short beside the other jobs.
PER_ROUND = 10


def _authorization(source: PartnerSource) -> str:
    secret = credentials.unseal(source.credential)
    if not secret:
        return ""
    if source.username:
        pair = f"{source.username}:{secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return f"Bearer {secret}"


def poll_source(source: PartnerSource) -> PartnerSource:
    """Fetch one source and record the outcome; never raises for the partner's failures."""
    try:
        fetched = partner.fetch_objects(
            api_root_url=source.api_root_url,
            collection_id=source.collection_id,
            added_after=source.added_after,
            authorization=_authorization(source),
            policy=services.partner_policy(),
            max_objects=settings.AIPS_TAXII_PARTNER_MAX_OBJECTS,
        )
    except (partner.FetchRefused, ValueError) as exc:
        log.info("exchange.poll_failed", source=source.pk, error=str(exc))
        return services.partner_poll_record(source=source, objects=None, error=str(exc))
    return services.partner_poll_record(
        source=source,
        objects=fetched.objects,
        added_last=fetched.added_last,
        pages=fetched.pages,
        size=fetched.bytes,
    )


def poll_due() -> str:
    """The job: poll the sources that are due, up to PER_ROUND of them."""
    done: list[str] = []
    for _round in range(PER_ROUND):
        source = services.partner_claim_due()
        if source is None:
            break
        polled = poll_source(source)
        done.append(f"{polled.name}: {polled.last_status} {polled.last_counts.get('drafts', 0)}")
    return f"{len(done)} partner sources polled" + (f" ({'; '.join(done)})" if done else "")
