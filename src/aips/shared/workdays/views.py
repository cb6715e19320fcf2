from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aips.core.access import has_perm, require
from aips.core.actors import acting
from aips.core.errors import ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import Perm
from aips.shared.workdays import selectors, services
from aips.shared.workdays.calendar import local_date
from aips.shared.workdays.forms import MovedDayForm
from aips.shared.workdays.labels import kind_label
from aips.shared.workdays.overview import year_days


def _render_calendar(
    request: HttpRequest, form: MovedDayForm | None, *, status: int = 200
) -> HttpResponse:
    today = local_date(timezone.now())
    years = [today.year, today.year + 1]
    moved = list(
        selectors.moved_day_list(
            actor=request.user,
            first=today.replace(month=1, day=1),
            last=today.replace(year=today.year + 1, month=12, day=31),
        )
    )
    context: dict[str, Any] = {
        "years": [(year, year_days(year, moved, today=today)) for year in years],
        "today": today,
        "can_manage": has_perm(request.user, Perm.CALENDAR_MANAGE),
        "form": form,
    }
    if context["can_manage"] and form is None:
        context["form"] = MovedDayForm()
    return render(request, "workdays/calendar.html", context, status=status)


@require(Perm.DASHBOARD_VIEW)
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """Everyone signed in: the holidays and moved days of this year and the next."""
    return _render_calendar(request, None)


@require(Perm.CALENDAR_MANAGE)
@require_POST
def day_set(request: HttpRequest) -> HttpResponse:
    form = MovedDayForm(request.POST)
    if form.is_valid():
        try:
            day = services.moved_day_set(actor=acting(request), **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(date)s is now: %(kind)s.")
                % {"date": day.date.strftime("%d.%m.%Y"), "kind": kind_label(day.kind)},
            )
            return redirect("workdays:calendar")
    return _render_calendar(request, form, status=422)


@require(Perm.CALENDAR_MANAGE)
@require_POST
def day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    day = selectors.get_moved_day_for(request.user, pk)
    services.moved_day_remove(actor=acting(request), moved_day=day)
    messages.success(
        request,
        _("The moved day %(date)s was removed; the public calendar applies again.")
        % {"date": day.date.strftime("%d.%m.%Y")},
    )
    return redirect("workdays:calendar")
