"""The CSAF batches' rows of the authorization matrix (core/tests/test_authorization_matrix.py).

Who may write an alert may start a batch and sees the batches of their own organization only:
bank A's batch is 404 to the center and to bank B ("not yours" looks like "missing"), 403 to
those without alert:edit. What a batch does is proven by tests/test_csaf_batch.py."""

from typing import Any

from aips.core.tests.matrix import Row, only

EDITORS = (
    "center_admin",
    "center_analyst",
    "bank_a_head",
    "bank_a_maker",
    "bank_b_head",
    "bank_b_maker",
)
NOT_YOURS = {"center_admin": 404, "center_analyst": 404, "bank_b_head": 404, "bank_b_maker": 404}


def _bank_a_batch(o: dict[str, Any]) -> dict[str, Any]:
    from aips.center.alerts.models import CsafBatch

    batch, _created = CsafBatch.objects.get_or_create(
        organization_id=o["bank_a_maker"].organization_id,
        created_by=o["bank_a_maker"],
        defaults={"tlp": "AMBER", "file_name": "feed.json"},
    )
    return {"pk": batch.pk}


def _api_batch(o: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": _bank_a_batch(o)["pk"]}


ROWS = [
    Row("alerts:csaf_batch_start", "GET", only(200, EDITORS)),
    Row("alerts:csaf_batches", "GET", only(200, EDITORS)),
    Row(
        "alerts:csaf_batch",
        "GET",
        only(200, ("bank_a_head", "bank_a_maker"), **NOT_YOURS),
        kwargs=_bank_a_batch,
    ),
    Row(
        "api:alerts_csaf_batch_start",
        "POST",
        only(422, EDITORS, anon=401),
        data={},
        api=True,
    ),
    Row("api:alerts_csaf_batch_list", "GET", only(200, EDITORS, anon=401), api=True),
    Row(
        "api:alerts_csaf_batch_get",
        "GET",
        only(200, ("bank_a_head", "bank_a_maker"), anon=401, **NOT_YOURS),
        kwargs=_api_batch,
        api=True,
    ),
]
