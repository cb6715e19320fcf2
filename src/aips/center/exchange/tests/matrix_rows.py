"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py).

The feeds answer every signed-in persona (each holds alert:view; the matrix's published alert
is the center's TLP:GREEN one, which every organization received) and refuse an anonymous
caller with 401, as a machine client expects. What each caller finds inside is proven by
tests/test_taxii.py and tests/test_feeds.py."""

from typing import Any

from aips.core.tests.matrix import Row, only, statuses

FEED = statuses(200, anon=401)
# Who may write an alert may import one: the center's admin and analysts, organizations' makers.
EDITORS = (
    "center_admin",
    "center_analyst",
    "bank_a_head",
    "bank_a_maker",
    "bank_b_head",
    "bank_b_maker",
)


def _collection(o: dict[str, Any]) -> dict[str, Any]:
    from aips.center.exchange import taxii

    return {"collection_id": taxii.collections()[0].id}


def _object(o: dict[str, Any]) -> dict[str, Any]:
    from aips.center.exchange import stix

    report = stix.alert_objects(o["published_alert"], stix.center_identity("x", 0))[-1]
    return {**_collection(o), "object_id": report.id}


def _bank_a_status(o: dict[str, Any]) -> dict[str, Any]:
    """A TAXII status of bank A's (no drafts needed: the row only tests who may read it)."""
    from aips.center.exchange.models import SubmissionStatus

    status, _created = SubmissionStatus.objects.get_or_create(
        organization_id=o["bank_a_maker"].organization_id,
        created_by=o["bank_a_maker"],
        defaults={"successes": [], "failures": []},
    )
    return {"status_id": str(status.pk)}


def _source(o: dict[str, Any]) -> dict[str, Any]:
    from aips.center.exchange.models import PartnerSource

    source, _created = PartnerSource.objects.get_or_create(
        name="matrix partner",
        defaults={
            "api_root_url": "https://cti.partner.example/taxii2/api1/",
            "collection_id": "matrix",
            "import_as": o["center_admin"],
        },
    )
    return {"pk": source.pk}


ADMIN = ("center_admin",)


def _event(o: dict[str, Any]) -> dict[str, Any]:
    from aips.center.exchange import feeds

    return {"event_uuid": feeds.event_uuid(o["published_alert"])}


ROWS: list[Row] = [
    Row("exchange:taxii_discovery", "GET", FEED),
    Row("exchange:taxii_root", "GET", FEED),
    Row("exchange:taxii_collections", "GET", FEED),
    Row("exchange:taxii_collection", "GET", FEED, kwargs=_collection),
    Row("exchange:taxii_objects", "GET", FEED, kwargs=_collection),
    # Adding objects takes a token, never a browser session (no CSRF token on a TAXII client).
    Row("exchange:taxii_objects", "POST", statuses(401), kwargs=_collection),
    # A status is its poster organization's alone: the center too gets 404.
    Row(
        "exchange:taxii_status",
        "GET",
        statuses(404, anon=401, bank_a_head=200, bank_a_maker=200, bank_a_viewer=200),
        kwargs=_bank_a_status,
    ),
    Row("exchange:taxii_manifest", "GET", FEED, kwargs=_collection),
    Row("exchange:taxii_object", "GET", FEED, kwargs=_object),
    Row("exchange:taxii_object_versions", "GET", FEED, kwargs=_object),
    Row("exchange:misp_manifest", "GET", FEED),
    Row("exchange:misp_hashes", "GET", FEED),
    Row("exchange:misp_event", "GET", FEED, kwargs=_event),
    Row("exchange:blocklist", "GET", FEED, kwargs=lambda o: {"name": "ip"}),
    Row("exchange:import", "GET", only(200, EDITORS)),
    # No file: the form comes back with its error.
    Row("exchange:import", "POST", only(422, EDITORS), data={"format": "stix"}),
    Row("exchange:partner_list", "GET", only(200, ADMIN)),
    Row("exchange:partner_create", "GET", only(200, ADMIN)),
    Row("exchange:partner_create", "POST", only(422, ADMIN), data={"name": ""}),
    Row("exchange:partner_detail", "GET", only(200, ADMIN), kwargs=_source),
    Row("exchange:partner_update", "GET", only(200, ADMIN), kwargs=_source),
    Row("exchange:partner_poll", "POST", only(302, ADMIN), kwargs=_source),
    Row("api:exchange_stix_import", "POST", only(422, EDITORS, anon=401), data={}, api=True),
    Row("api:exchange_misp_import", "POST", only(422, EDITORS, anon=401), data={}, api=True),
]
