"""The auctions' forms: the auctioneer's schedule (the engine's defaults filled in) and a
participant's bid (the price seen travels with it, so a stale view is refused, never applied)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.etp.auctions.models import AuctionRule

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_MONEY = {"max_digits": 17, "decimal_places": 2, "min_value": Decimal(0)}


class ScheduleForm(forms.Form):
    rule = forms.ChoiceField(label=_("Rule set"), choices=AuctionRule.choices)
    starts_at = forms.DateTimeField(label=_("Auction starts"), widget=_LOCAL)
    start_price = forms.DecimalField(label=_("Start price"), **_MONEY)  # type: ignore[arg-type]
    min_step = forms.DecimalField(
        label=_("Minimal step"),
        initial=Decimal("0.01"),
        **_MONEY,  # type: ignore[arg-type]
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"), initial=60, min_value=1, max_value=10_000
    )
    extension_minutes = forms.IntegerField(
        label=_("Extension, minutes"),
        initial=5,
        min_value=1,
        max_value=10_000,
        help_text=_("A bid this close to the end moves the end to the bid's moment plus this."),
    )
    floor_price = forms.DecimalField(
        label=_("Floor price (descending)"),
        initial=Decimal(0),
        **_MONEY,  # type: ignore[arg-type]
    )
    descending_step = forms.DecimalField(
        label=_("Price step down (descending)"),
        initial=Decimal("0.01"),
        **_MONEY,  # type: ignore[arg-type]
    )
    descending_interval_seconds = forms.IntegerField(
        label=_("Step interval, seconds (descending)"), initial=60, min_value=1, max_value=10_000
    )
    sealed_round_minutes = forms.IntegerField(
        label=_("Sealed round, minutes"), initial=10, min_value=1, max_value=10_000
    )


class BidForm(forms.Form):
    amount = forms.DecimalField(label=_("Your bid"), **_MONEY)  # type: ignore[arg-type]
    seen_price = forms.DecimalField(widget=forms.HiddenInput, **_MONEY)  # type: ignore[arg-type]
