"""The results' pages: the results of an auction (the seller and the operator; the auctioneer
signs the protocol there with NCALayer), a contract (its buyer signs or refuses it, the
admission officer confirms the payment, the seller reads it and the buyer's signed documents),
and the signed protocol's public downloads (JSON, PDF, CMS). A contract or results someone may
not see answer 404."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import has_perm, public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.permissions import Perm
from aips.etp.auctions import contracts, protocol
from aips.etp.auctions import results as results_reads
from aips.etp.auctions.models import AuctionResult, Contract
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.sessions import acting_person
from aips.shared.eds.canonical import b64
from aips.shared.files.web import download_response
from aips.shared.workflow.web import flash_errors, raise_for_status, run_action


def _result(request: HttpRequest, pk: int) -> AuctionResult:
    try:
        return results_reads.get_result_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc


@require(EtpPerm.LOT_VIEW)
def results(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    result = _result(request, pk)
    auction = result.auction
    return render(
        request,
        "etp_auctions/results/results.html",
        {
            "title": _("Results of %(ref)s") % {"ref": auction.reference},
            "result": result,
            "auction": auction,
            "lot": auction.procedure.lot,
            "protocol": auction.protocol,
            "document": b64(bytes(auction.protocol.document)),
            "can_sign": has_perm(user, EtpPerm.AUCTION_RUN) and bool(user.iin),
            "contracts": results_reads.contracts_of(result),
        },
    )


@require_POST
@require(EtpPerm.AUCTION_RUN)
def protocol_sign(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    result = _result(request, pk)
    try:
        protocol.protocol_sign(
            actor=user,
            protocol=result.auction.protocol,
            eds_signature=request.POST.get("eds_signature", ""),
        )
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The protocol is signed and published."))
    return redirect("etp_auction_results:results", pk=pk)


def _contract(request: HttpRequest, pk: int) -> Contract:
    try:
        return contracts.get_contract_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc


@require(Perm.DASHBOARD_VIEW)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    contract = _contract(request, pk)
    return render(
        request,
        "etp_auctions/results/contract.html",
        {
            "title": _("Contract %(ref)s") % {"ref": contract.reference},
            "contract": contract,
            "lot": contract.auction.procedure.lot,
            "document": b64(bytes(contract.document)),
            "is_buyer": user.organization_id == contract.application.organization_id
            and has_perm(user, EtpPerm.AUCTION_BID),
            "signable": bool(user.iin),
            "can_confirm": contracts.may_confirm_payment(user),
        },
    )


@require_POST
@require(Perm.DASHBOARD_VIEW)
def contract_act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = acting_person(request)
    contract = _contract(request, pk)
    steps: dict[str, Callable[[], object]] = {
        "sign": lambda: contracts.contract_sign(
            actor=user, contract=contract, eds_signature=request.POST.get("eds_signature", "")
        ),
        "refuse": lambda: contracts.contract_refuse(
            actor=user, contract=contract, reason=request.POST.get("reason", "")
        ),
        "confirm_payment": lambda: contracts.contract_payment_confirm(
            actor=user, contract=contract
        ),
    }
    step = steps.get(name)
    if step is None:
        raise Http404

    def act() -> str:
        step()
        return _("Done.")

    return run_action(
        request, act, then=lambda: redirect("etp_auction_results:contract", pk=contract.pk)
    )


def _bytes_download(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require(Perm.DASHBOARD_VIEW)
def contract_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The contract's signed document and the buyer's CMS (its buyer, seller and operator)."""
    contract = _contract(request, pk)
    if kind == "document":
        return _bytes_download(
            bytes(contract.document), f"{contract.reference}.json", "application/json"
        )
    if kind == "signature" and contract.signature is not None:
        return _bytes_download(
            bytes(contract.signature.cms),
            f"{contract.reference}.p7s",
            "application/pkcs7-signature",
        )
    raise Http404


@public
def public_protocol(request: HttpRequest, pk: int, kind: str) -> HttpResponseBase:
    """The signed protocol of a public lot's auction: anyone downloads it."""
    signed = protocol.public_protocol(pk)
    if signed is None or signed.signature is None:
        raise Http404
    name = f"protocol-{signed.auction.reference}"
    if kind == "json":
        return _bytes_download(bytes(signed.document), f"{name}.json", "application/json")
    if kind == "cms":
        return _bytes_download(
            bytes(signed.signature.cms), f"{name}.p7s", "application/pkcs7-signature"
        )
    if kind == "pdf" and hasattr(signed, "pdf"):
        return download_response(signed.pdf, served=lambda: None)
    raise Http404
