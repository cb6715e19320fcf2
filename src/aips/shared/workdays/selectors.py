from datetime import date

from django.http import Http404

from aips.core.actors import Viewer
from aips.shared.workdays.models import MovedDay, MovedDayQuerySet


def moved_day_list(
    *, actor: Viewer, first: date | None = None, last: date | None = None
) -> MovedDayQuerySet:
    days = MovedDay.objects.visible_to(actor).select_related("created_by")
    if first is not None:
        days = days.filter(date__gte=first)
    if last is not None:
        days = days.filter(date__lte=last)
    return days.order_by("date")


def get_moved_day_for(actor: Viewer, pk: int) -> MovedDay:
    try:
        return MovedDay.objects.visible_to(actor).get(pk=pk)
    except MovedDay.DoesNotExist as exc:
        raise Http404 from exc


def moved_days_between(first: date, last: date) -> dict[date, str]:
    """The calendar's overrides for [first, last], date → kind, in one query. Not tied to an actor:
    the deadline arithmetic runs for everyone, the worker included."""
    rows = MovedDay.objects.filter(date__gte=first, date__lte=last).values_list("date", "kind")
    return dict(rows)
