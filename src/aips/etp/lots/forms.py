"""The lot's forms: they collect input; the services validate it (their field errors are shown
next to these fields)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aips.etp.lots.models import CourtStatus, Currency, DebtorType, FilePurpose, LotKind


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class LotForm(forms.Form):
    kind = forms.ChoiceField(label=_("Asset type"), choices=LotKind.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    region = forms.CharField(label=_("Region"), max_length=100)
    start_price = forms.DecimalField(label=_("Start price"), max_digits=18, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    # A right of claim on a loan (a portfolio uses only "retail").
    debtor_type = forms.ChoiceField(
        label=_("Debtor type"), choices=_blank(DebtorType.choices), required=False
    )
    retail = forms.BooleanField(label=_("Retail loan(s) to individuals"), required=False)
    principal = forms.DecimalField(
        label=_("Principal"), max_digits=18, decimal_places=2, required=False
    )
    interest = forms.DecimalField(
        label=_("Interest"), max_digits=18, decimal_places=2, required=False
    )
    penalties = forms.DecimalField(
        label=_("Penalties"), max_digits=18, decimal_places=2, required=False
    )
    days_overdue = forms.IntegerField(label=_("Days overdue"), min_value=0, required=False)
    court_status = forms.ChoiceField(
        label=_("Court status"), choices=_blank(CourtStatus.choices), required=False
    )
    agreement_number = forms.CharField(
        label=_("Loan agreement number (not published)"), max_length=64, required=False
    )
    agreement_date = forms.DateField(
        label=_("Loan agreement date (not published)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    borrower_identifier = forms.CharField(
        label=_("Borrower's IIN/BIN (not published)"), max_length=12, required=False
    )
    borrower_name = forms.CharField(
        label=_("Borrower's name (not published)"), max_length=300, required=False
    )
    guarantor_identifiers = forms.CharField(
        label=_("Guarantors' IIN/BIN, one per line (not published)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Collateral.
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    area = forms.DecimalField(label=_("Area, m²"), max_digits=12, decimal_places=2, required=False)
    cadastral_number = forms.CharField(label=_("Cadastral number"), max_length=64, required=False)
    make = forms.CharField(label=_("Make and model"), max_length=100, required=False)
    vehicle_year = forms.IntegerField(label=_("Year of manufacture"), required=False)
    vin = forms.CharField(label=_("VIN"), max_length=17, required=False)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["guarantor_identifiers"] = [
            line.strip()
            for line in (data.get("guarantor_identifiers") or "").splitlines()
            if line.strip()
        ]
        return {k: ("" if v is None and k in _TEXT else v) for k, v in data.items()}


_TEXT = frozenset({"debtor_type", "court_status"})


class ReasonForm(forms.Form):
    comment = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea)


class TapeForm(forms.Form):
    file = forms.FileField(
        label=_("Loan tape (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class FileForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("Kind of file"),
        choices=[
            (FilePurpose.PHOTO, FilePurpose.PHOTO.label),
            (FilePurpose.DOCUMENT, FilePurpose.DOCUMENT.label),
        ],
    )
    file = forms.FileField(label=_("File"))
