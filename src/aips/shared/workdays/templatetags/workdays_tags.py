"""`{% load workdays_tags %}` … `{% deadline obj.deadline %}`: the deadline in Almaty time, the
time remaining (working days and hours) and an "Overdue" badge, for cards, alerts and requests."""

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aips.core.templatetags.aips_format import when_text
from aips.shared.workdays.calendar import deadline_info

register = template.Library()


def duration_text(span: timedelta) -> str:
    """ "2 days 5 hours", "3 hours 10 minutes", "less than a minute", in the active language."""
    minutes = int(span.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts) or _("less than a minute")


@register.filter
def duration(value: timedelta | None) -> str:
    """A time span for people ("2 h 5 min"), e.g. from detection to submission (R67.12)."""
    return duration_text(value) if isinstance(value, timedelta) else "—"


@register.inclusion_tag("workdays/_deadline.html")
def deadline(value: datetime | None, now: datetime | None = None) -> dict[str, Any]:
    """Nothing at all for an item without a deadline."""
    if value is None:
        return {"info": None}
    info = deadline_info(value, now if now is not None else timezone.now())
    return {
        "info": info,
        "iso": info.deadline.isoformat(),
        "local": when_text(info.deadline),
        "duration": duration_text(info.overdue_by if info.overdue else info.remaining),
    }
