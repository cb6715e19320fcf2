"""The lots' rows of the ETP's authorization matrix (R57.5): seller A's lots are seller A's
(seller B gets 404, as if they did not exist); the operator sees a lot once the seller approved
it (a draft is 404 to it); participants hold no lot permission (403); the public lot page and the
public API answer everyone."""

from typing import Any

from aips.etp.tests.matrix import OPERATOR, SELLER_A, SELLER_B, Row, only, statuses

VIEWERS = OPERATOR + SELLER_A + SELLER_B  # lot:view
MAKERS = ("seller_a_maker", "seller_b_maker")  # lot:edit
B_404 = dict.fromkeys(SELLER_B, 404)
OPERATOR_404 = dict.fromkeys(OPERATOR, 404)


def draft(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["lot_draft"].pk}


def pending(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["lot_pending"].pk}


def published(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["lot_published"].pk}


def api_draft(o: dict[str, Any]) -> dict[str, Any]:
    return {"lot_id": o["lot_draft"].pk}


def _photo(lot: Any) -> int:
    from aips.etp.lots.models import LotFile

    return int(LotFile.objects.filter(lot=lot, purpose="photo").order_by("-id")[0].pk)


def _document(lot: Any) -> int:
    from aips.etp.lots.models import LotFile

    return int(LotFile.objects.filter(lot=lot, purpose="document").order_by("-id")[0].pk)


ROWS: list[Row] = [
    Row("etp_lots:public_detail", "GET", statuses(200), kwargs=published),
    Row(
        "etp_lots:public_photo",
        "GET",
        statuses(200),
        kwargs=lambda o: {"pk": o["lot_withdrawn"].pk, "file_id": _photo(o["lot_withdrawn"])},
    ),
    Row(
        "etp_lots:file_download",
        "GET",
        only(200, OPERATOR + SELLER_A, **B_404),
        kwargs=lambda o: {"pk": o["lot_pending"].pk, "file_id": _document(o["lot_pending"])},
    ),
    Row("etp_lots:list", "GET", only(200, VIEWERS)),
    Row("etp_lots:queue", "GET", only(200, ("operator_verifier",))),
    Row("etp_lots:create", "GET", only(200, MAKERS)),
    Row("etp_lots:detail", "GET", only(200, OPERATOR + SELLER_A, **B_404), kwargs=pending),
    Row(
        "etp_lots:update",
        "GET",
        only(200, ("seller_a_maker",), seller_b_maker=404),
        kwargs=draft,
    ),
    Row(
        "etp_lots:tape",
        "POST",
        only(302, ("seller_a_maker",), seller_b_maker=404),
        kwargs=draft,
    ),
    Row(
        "etp_lots:file",
        "POST",
        only(302, ("seller_a_maker",), seller_b_maker=404),
        kwargs=draft,
    ),
    Row(
        "etp_lots:act",
        "POST",
        only(302, ("seller_a_maker",), seller_a_signatory=403, **B_404, **OPERATOR_404),
        kwargs=lambda o: {"pk": o["lot_draft"].pk, "name": "request_approval"},
    ),
    Row("api:lots_list", "GET", only(200, VIEWERS, anon=401), api=True),
    Row("api:lots_create", "POST", only(422, MAKERS, anon=401), data={}, api=True),
    Row(
        "api:lots_get",
        "GET",
        only(200, OPERATOR + SELLER_A, anon=401, **B_404),
        kwargs=lambda o: {"lot_id": o["lot_pending"].pk},
        api=True,
    ),
    Row(
        "api:lots_update",
        "PATCH",
        only(200, ("seller_a_maker",), anon=401, seller_b_maker=404),
        kwargs=api_draft,
        data={},
        api=True,
    ),
    Row(
        "api:lots_tape_upload",
        "POST",
        only(422, MAKERS, anon=401),
        kwargs=api_draft,
        api=True,
    ),
    Row(
        "api:lots_transition",
        "POST",
        only(200, ("seller_a_maker",), anon=401, seller_a_signatory=403, **B_404, **OPERATOR_404),
        kwargs=lambda o: {"lot_id": o["lot_draft"].pk, "name": "request_approval"},
        data={},
        api=True,
    ),
    Row("api:public_lots_list", "GET", statuses(200), api=True),
    Row("api:public_feed", "GET", statuses(200), api=True),
    Row(
        "api:public_lots_get",
        "GET",
        statuses(200),
        kwargs=lambda o: {"lot_id": o["lot_published"].pk},
        api=True,
    ),
]
