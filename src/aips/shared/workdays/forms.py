from django import forms
from django.utils.translation import gettext_lazy as _

from aips.shared.workdays.models import MovedDayKind


class MovedDayForm(forms.Form):
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(
        label=_("The date becomes"),
        choices=MovedDayKind.choices,
        help_text=_(
            "A working day: a Saturday, Sunday or holiday the government moved to a working "
            "day. A day off: a weekday declared a day off, or the corrected date of a religious "
            "holiday."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        required=False,
        help_text=_("For example, the government resolution that moved the day."),
    )
