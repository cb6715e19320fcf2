"""Taking a partner's intelligence in through the REST API: a STIX 2.1 bundle or a MISP event
file becomes draft alerts (the feeds themselves are plain views: views.py)."""

from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema, Status

from aips.center.exchange import services
from aips.center.exchange.parsing import MAX_BYTES
from aips.core.permissions import Perm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.schemas import NonEmptyFile

router = Router(tags=["exchange"])


class DraftOut(Schema):
    id: int
    reference: str
    title: str
    kind: str
    tlp: str
    indicators: int
    cve_ids: list[str]


def _out(alerts: list[Any]) -> list[DraftOut]:
    return [
        DraftOut(
            id=a.pk,
            reference=a.reference,
            title=a.title,
            kind=a.kind,
            tlp=a.tlp,
            indicators=len(a.indicators),
            cve_ids=list(a.cve_ids),
        )
        for a in alerts
    ]


@router.post(
    "/stix-import",
    response={201: list[DraftOut]},
    operation_id="exchange_stix_import",
    auth=api_auth(Perm.ALERT_EDIT),
)
def exchange_stix_import(request: HttpRequest, file: File[NonEmptyFile]) -> Any:
    """Draft alerts from a STIX 2.1 bundle: one per report (its indicators and
    vulnerabilities), one more for indicators no report names. 422 for a file that is not a
    valid STIX 2.1 bundle."""
    alerts = services.stix_import(actor=acting_person(request), data=file.read(MAX_BYTES + 1))
    return Status(201, _out(alerts))


@router.post(
    "/misp-import",
    response={201: list[DraftOut]},
    operation_id="exchange_misp_import",
    auth=api_auth(Perm.ALERT_EDIT),
)
def exchange_misp_import(request: HttpRequest, file: File[NonEmptyFile]) -> Any:
    """A draft alert from a MISP event JSON (`{"Event": …}`)."""
    alert = services.misp_import(actor=acting_person(request), data=file.read(MAX_BYTES + 1))
    return Status(201, _out([alert]))
