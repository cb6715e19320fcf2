"""The trading rules as typed settings (docs/domains/etp.md, "Trading rules"): every number is a
setting because the regulator's trading rules are not available to us."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def retail_min_overdue_days() -> int:
    """A retail loan claim may be sold only when overdue MORE than this many days."""
    return int(getattr(settings, "AIPS_ETP_RETAIL_CLAIM_MIN_OVERDUE_DAYS", 90))


def moratorium() -> tuple[date, date] | None:
    """The period (both days included) when retail loan claims may not be put up for sale."""
    raw = str(getattr(settings, "AIPS_ETP_MORATORIUM", "none")).strip()
    if not raw or raw.lower() == "none":
        return None
    try:
        first, last = (date.fromisoformat(part.strip()) for part in raw.split(".."))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"AIPS_ETP_MORATORIUM must be 'YYYY-MM-DD..YYYY-MM-DD' or 'none', got {raw!r}"
        ) from exc
    if last < first:
        raise ImproperlyConfigured("AIPS_ETP_MORATORIUM ends before it starts")
    return first, last


def in_moratorium(day: date) -> bool:
    period = moratorium()
    return period is not None and period[0] <= day <= period[1]


def correction_window() -> timedelta:
    """How long after publication the seller may still change a lot's significant fields."""
    return timedelta(hours=int(getattr(settings, "AIPS_ETP_CORRECTION_WINDOW_HOURS", 48)))
