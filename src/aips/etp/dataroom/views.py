"""The data room's pages: `/lots/<id>/dataroom/` (the NDA to accept, then the full loan file),
the acceptance, and the stamped downloads. Whoever may not enter gets 404."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import require
from aips.core.errors import AppError, NotFound
from aips.etp.dataroom import selectors, services
from aips.etp.dataroom.nda import nda_sha256, nda_text
from aips.etp.lots import selectors as lot_selectors
from aips.etp.lots.models import Lot, LotKind
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.web import NotServable, not_served_response
from aips.shared.workflow.web import raise_for_status, run_action

# A portfolio's tape may name thousands of people: the page shows this many, the tape holds all.
PARTIES_ON_PAGE = 500


def _room(request: HttpRequest, pk: int) -> tuple[User, Lot, selectors.Entry]:
    user = acting_person(request)
    try:
        lot, entry = selectors.get_room_lot(user, pk)
    except NotFound as exc:
        raise Http404 from exc
    return user, lot, entry


@require(EtpPerm.DATAROOM_VIEW)
def room(request: HttpRequest, pk: int) -> HttpResponse:
    user, lot, entry = _room(request, pk)
    if not selectors.is_open_to(user, lot, entry):
        text = nda_text(lot)
        return render(
            request,
            "etp_dataroom/nda.html",
            {
                "title": _("Data room of %(lot)s") % {"lot": lot.reference},
                "lot": lot,
                "paragraphs": text.split("\n\n"),
                "sha256": nda_sha256(text),
            },
        )
    services.room_opened(actor=user, lot=lot)
    parties = selectors.room_parties(lot)
    return render(
        request,
        "etp_dataroom/room.html",
        {
            "title": _("Data room of %(lot)s") % {"lot": lot.reference},
            "lot": lot,
            "card": lot_selectors.public_card(lot),
            "entry": entry,
            "acceptance": selectors.acceptance_of(user, lot) if entry == "participant" else None,
            "files": selectors.room_files(lot),
            "has_parties": lot.kind in (LotKind.CLAIM, LotKind.PORTFOLIO),
            "parties": parties[:PARTIES_ON_PAGE],
            "party_count": len(parties),
        },
    )


@require_POST
@require(EtpPerm.DATAROOM_VIEW)
def nda_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user, lot, _entry = _room(request, pk)

    def accept() -> str:
        shown = request.POST.get("nda_sha256", "")[:64]
        services.nda_accept(actor=user, lot=lot, shown_sha256=shown)
        return _("The agreement is accepted: the data room is open.")

    return run_action(
        request,
        accept,
        then=lambda: redirect("etp_dataroom:room", pk=lot.pk),
    )


@require(EtpPerm.DATAROOM_VIEW)
def file_download(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    """A room file stamped with the reader's identity and the time, always as a download; the
    journal entry is written before it is sent. Before the NDA: back to the agreement."""
    user, lot, entry = _room(request, pk)
    if not selectors.is_open_to(user, lot, entry):
        messages.error(request, _("Accept the non-disclosure agreement first."))
        return redirect("etp_dataroom:room", pk=lot.pk)
    try:
        lot_file = selectors.get_room_file(lot, file_id)
        download = services.file_download(actor=user, lot=lot, lot_file=lot_file)
    except NotServable as exc:  # not scanned clean: the platform's answer, nothing journaled
        return not_served_response(exc)
    except AppError as exc:
        raise_for_status(exc)
        raise
    response = HttpResponse(download.stamped.content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download.stamped.file_name
    )
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Download-Id"] = download.download_id
    return response
