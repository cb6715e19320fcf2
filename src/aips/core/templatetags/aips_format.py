"""`{% load aips_format %}`: how the pages show moments and form errors.

`{{ value|when }}` is the one way a page shows a moment: the date and time in Almaty, with the
zone named, e.g. "05.12.2026 14:30 (Алматы)", so a reader never has to guess whose clock it is.
`{{ value|when:"date" }}` shows the date alone (a date in Almaty, too); `{{ value|when:"seconds" }}`
adds the seconds (the audit journal).
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms, template
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

register = template.Library()

ALMATY = ZoneInfo("Asia/Almaty")


def when_text(value: Any, part: str = "") -> str:
    if isinstance(value, datetime):
        local = value.astimezone(ALMATY) if value.tzinfo is not None else value
        if part == "date":
            return date_format(local, "d.m.Y")
        pattern = "d.m.Y H:i:s" if part == "seconds" else "d.m.Y H:i"
        # Translators: a date and time followed by the city whose clock it is on.
        return _("%(moment)s (Almaty)") % {"moment": date_format(local, pattern)}
    if isinstance(value, date):
        return date_format(value, "d.m.Y")
    return "—" if value in (None, "") else str(value)


@register.filter
def when(value: Any, part: str = "") -> str:
    return when_text(value, part)


@register.filter
def has_field_errors(form: Any) -> bool:
    """True when a field itself is wrong: a form refused only as a whole (a wrong password) must
    not tell the person to correct fields that carry no mark."""
    if not isinstance(form, forms.BaseForm) or not form.errors:
        return False
    return any(field.errors for field in form.visible_fields())


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """`{{ labels|lookup:item.pk }}`: a value of a dict a view prepared, "" when absent."""
    return mapping.get(key, "") if isinstance(mapping, dict) else ""
