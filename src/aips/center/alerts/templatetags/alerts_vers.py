"""`{% load alerts_vers %}`: an affected product's versions as the page shows them, a `vers:`
range in words of the reader's language (aips.center.alerts.vers)."""

from typing import Any, TypedDict

from django import template
from django.utils.translation import gettext as _

from aips.center.alerts.vers import VersError, find_vers, vers_text

register = template.Library()


class ShownVersion(TypedDict):
    text: str  # what the page shows
    raw: str  # the version as the alert stores it ("" when it is the same as `text`)
    note: str  # why it is shown as written ("" when it is not)


def shown_version(value: str) -> ShownVersion:
    found = find_vers(value)
    if found is None:
        return ShownVersion(text=value, raw="", note="")
    before, vers = found
    try:
        words = vers_text(vers)
    except VersError:
        return ShownVersion(
            text=value,
            raw="",
            note=_("not a valid vers range; shown as written"),
        )
    return ShownVersion(text=f"{before}{words}", raw=value, note="")


@register.filter
def shown_versions(values: Any) -> list[ShownVersion]:
    """`{% for v in p.versions|shown_versions %}`: each version with its words."""
    if not isinstance(values, list | tuple):
        return []
    return [shown_version(str(v)) for v in values]
