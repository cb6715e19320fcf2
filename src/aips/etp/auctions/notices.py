"""Who hears about the results and the contracting (in-app and by e-mail):

- results: the winner's people (won: the price, the deadline to sign); every other admitted
  participant's people (the result; the deposit returned, or held while the lot may still be
  offered to them); the seller's people;
- protocol signed: the seller's people (the protocol is published);
- contract offered to the runner-up: the runner-up's people;
- contract signed: the seller's people and the operator's admission officers (the payment);
- a day before a deadline: the buyer's people;
- refused or deadline missed: the buyer's people (the deposit retained);
- sold or unsuccessful: the seller's people (unsuccessful: with the repeat attempt's start and
  start price when one is scheduled) and (sold) the buyer's; a participant whose deposit is
  returned then.

The participants' people are the active accounts of the applying organization; the seller's
those of the lot's organization (people_to_tell)."""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.etp.applications.models import Application, ApplicationState, DepositState
from aips.etp.auctions.models import Auction, AuctionResult, Contract, Protocol, ResultOutcome
from aips.etp.permissions import EtpRole
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.services import Text, notify
from aips.shared.workdays.calendar import ALMATY


def _people(organization_id: int) -> list[User]:
    return people_to_tell(organization_id=organization_id)


def _contract_link(contract: Contract) -> str:
    return reverse("etp_auction_results:contract", args=[contract.pk])


def _results_link(auction_id: int) -> str:
    return reverse("etp_auction_results:results", args=[auction_id])


def _when(moment: datetime) -> str:
    return moment.astimezone(ALMATY).strftime("%d.%m.%Y %H:%M")


def results_announced(*, result: AuctionResult, returned: set[int]) -> None:
    auction = result.auction
    lot = auction.procedure.lot
    base = {"lot": lot.reference, "currency": lot.currency}
    applications = Application.objects.filter(
        procedure_id=auction.procedure_id, state=ApplicationState.ADMITTED
    ).select_related("deposit")
    for application in applications:
        if application.pk == result.winner_id:
            contract = Contract.objects.get(auction=auction, rank=1)
            params = {
                **base,
                "amount": f"{result.winning_amount}",
                "deadline": _when(contract.sign_deadline),
            }
            notify(
                users=_people(application.organization_id),
                kind="etp.auction.won",
                subject=Text(_("You won the auction for lot %(lot)s"), params),
                text=Text(
                    _(
                        "You won the auction for lot %(lot)s at %(amount)s %(currency)s. Sign "
                        "the contract with EDS by %(deadline)s; your deposit stays held."
                    ),
                    params,
                ),
                link=_contract_link(contract),
                email=True,
                target=contract,
            )
            continue
        params = {**base, "deposit": f"{application.deposit.amount}"}
        if application.pk in returned:
            text = _(
                "The auction for lot %(lot)s is over and you did not win. Your deposit of "
                "%(deposit)s %(currency)s is returned."
            )
        elif application.deposit.state == DepositState.HELD:
            text = _(
                "The auction for lot %(lot)s is over and your bid is second. Your deposit of "
                "%(deposit)s %(currency)s stays held while the lot may still be offered to you."
            )
        else:
            # A repeat attempt after a failed contracting: the deposit was settled then.
            text = _("The auction for lot %(lot)s is over and you did not win.")
        notify(
            users=_people(application.organization_id),
            kind="etp.auction.results",
            subject=Text(_("Results of the auction for lot %(lot)s"), params),
            text=Text(text, params),
            link=reverse("etp_applications:detail", args=[application.pk]),
            email=True,
            target=application,
        )
    params = {**base, "amount": f"{result.winning_amount}"}
    notify(
        users=_people(lot.organization_id),
        kind="etp.auction.results_seller",
        subject=Text(_("Results of the auction for lot %(lot)s"), params),
        text=Text(
            _(
                "The auction for lot %(lot)s closed with a winning bid of %(amount)s "
                "%(currency)s; the winner is offered the contract."
            ),
            params,
        ),
        link=_results_link(auction.pk),
        email=True,
        target=auction,
    )


def protocol_published(*, actor: User, protocol: Protocol) -> None:
    lot = protocol.auction.procedure.lot
    params = {"lot": lot.reference}
    notify(
        users=[u for u in _people(lot.organization_id) if u.pk != actor.pk],
        kind="etp.auction.protocol",
        subject=Text(_("The protocol of the auction for lot %(lot)s is signed"), params),
        text=Text(
            _("The operator signed and published the protocol of the auction for lot %(lot)s."),
            params,
        ),
        link=_results_link(protocol.auction_id),
        email=True,
        target=protocol.auction,
    )


def _contract_params(contract: Contract) -> dict[str, str]:
    lot = contract.auction.procedure.lot
    return {
        "ref": contract.reference,
        "lot": lot.reference,
        "amount": f"{contract.price}",
        "currency": lot.currency,
        "deadline": _when(contract.sign_deadline),
    }


def runner_up_offered(*, contract: Contract) -> None:
    params = _contract_params(contract)
    notify(
        users=_people(contract.application.organization_id),
        kind="etp.contract.offered",
        subject=Text(_("Lot %(lot)s is offered to you"), params),
        text=Text(
            _(
                "The winner of the auction for lot %(lot)s did not conclude the contract. The "
                "lot is offered to you at your bid of %(amount)s %(currency)s: sign contract "
                "%(ref)s with EDS by %(deadline)s."
            ),
            params,
        ),
        link=_contract_link(contract),
        email=True,
        target=contract,
    )


def contract_signed(*, contract: Contract) -> None:
    params = _contract_params(contract)
    lot = contract.auction.procedure.lot
    officers = people_to_tell(organization__kind="operator", role=EtpRole.OPERATOR_ADMISSION)
    notify(
        users=[*_people(lot.organization_id), *officers],
        kind="etp.contract.signed",
        subject=Text(_("Contract %(ref)s for lot %(lot)s is signed"), params),
        text=Text(
            _(
                "The buyer signed contract %(ref)s for lot %(lot)s at %(amount)s %(currency)s; "
                "the payment is awaited."
            ),
            params,
        ),
        link=_contract_link(contract),
        email=True,
        target=contract,
    )


def contract_reminder(*, contract: Contract, deadline: datetime) -> None:
    params = {**_contract_params(contract), "deadline": _when(deadline)}
    notify(
        users=_people(contract.application.organization_id),
        kind="etp.contract.reminder",
        subject=Text(_("Contract %(ref)s: the deadline is near"), params),
        text=Text(
            _(
                "The deadline of contract %(ref)s for lot %(lot)s is %(deadline)s. After it "
                "your deposit is retained."
            ),
            params,
        ),
        link=_contract_link(contract),
        email=True,
        target=contract,
    )


def contract_failed(*, contract: Contract) -> None:
    params = _contract_params(contract)
    text = (
        _("You refused contract %(ref)s for lot %(lot)s; your deposit is retained.")
        if contract.state == "refused"
        else _("The deadline of contract %(ref)s for lot %(lot)s passed; your deposit is retained.")
    )
    notify(
        users=_people(contract.application.organization_id),
        kind="etp.contract.missed",
        subject=Text(_("Contract %(ref)s: not concluded"), params),
        text=Text(text, params),
        link=_contract_link(contract),
        email=True,
        target=contract,
    )


def outcome(
    *, result: AuctionResult, contract: Contract, returned: set[int], repeat: Auction | None = None
) -> None:
    """The seller hears the outcome (unsuccessful: and the repeat attempt, if one follows; the
    admitted participants hear of the repeat from live_notices.unsuccessful)."""
    params = _contract_params(contract)
    lot = contract.auction.procedure.lot
    sold = result.outcome == ResultOutcome.SOLD
    if sold:
        text = _("Lot %(lot)s is sold at %(amount)s %(currency)s (contract %(ref)s).")
    elif repeat is not None:
        params |= {"start": _when(repeat.starts_at), "price": f"{repeat.start_price}"}
        text = _(
            "The procedure for lot %(lot)s is unsuccessful: no contract was concluded. A "
            "repeat auction starts at %(start)s at a start price of %(price)s %(currency)s."
        )
    else:
        text = _("The procedure for lot %(lot)s is unsuccessful: no contract was concluded.")
    notify(
        users=_people(lot.organization_id),
        kind="etp.auction.outcome",
        subject=Text(_("Lot %(lot)s: the outcome of the procedure"), params),
        text=Text(text, params),
        link=_results_link(contract.auction_id),
        email=True,
        target=contract.auction,
    )
    if sold:
        notify(
            users=_people(contract.application.organization_id),
            kind="etp.contract.paid",
            subject=Text(_("Contract %(ref)s: payment confirmed"), params),
            text=Text(
                _("The operator confirmed your payment under contract %(ref)s for lot %(lot)s."),
                params,
            ),
            link=_contract_link(contract),
            email=True,
            target=contract,
        )
    for application in Application.objects.filter(pk__in=returned):
        notify(
            users=_people(application.organization_id),
            kind="etp.auction.deposit_returned",
            subject=Text(_("The deposit for %(ref)s is returned"), {"ref": application.reference}),
            text=Text(
                _("The procedure for lot %(lot)s is over; your deposit is returned."), params
            ),
            link=reverse("etp_applications:detail", args=[application.pk]),
            email=True,
            target=application,
        )
