"""Signal pages (R67.3.6, R67.8, R67.4): the explorer (a filtered feed, keyset-paged, with an
hourly histogram), one signal, the pivot on an indicator, the rollup dashboard, and the center's
correlation findings with their two decisions. An organization sees only its own signals and
sightings; findings span organizations and are the center's alone."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aips.center.signals import selectors, services
from aips.center.signals.forms import DismissForm, FindingFilterForm, SignalFilterForm
from aips.center.signals.models import KIND_LABELS, SEVERITY_LABELS, FindingState, Signal
from aips.center.signals.schema import Direction, Kind, Severity
from aips.core.access import has_perm
from aips.core.access import require as require_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, NotFound
from aips.core.indicators import TYPE_LABELS, type_label
from aips.core.permissions import Perm
from aips.core.text import unsafe_text_message
from aips.shared.accounts.sessions import acting_person
from aips.shared.organizations.selectors import organization_list

PAGE_SIZE = 50
# Bars of the histogram: the SVG is drawn in these units and scaled to the page's width.
BAR_WIDTH = 10
CHART_HEIGHT = 100


def _found(fetch: Any, *args: Any) -> Any:
    """A selector's NotFound as the web's 404 ("not yours" looks exactly like "missing")."""
    try:
        return fetch(*args)
    except NotFound as exc:
        raise Http404 from exc


def _organizations(user: Actor) -> list[tuple[int, str]] | None:
    """The organization filter's choices: the center's alone (others see only their own)."""
    if not user.is_center:
        return None
    return [(o.pk, o.display_name) for o in organization_list(actor=user)]


def _kind_label(kind: str) -> str:
    try:
        return str(KIND_LABELS[Kind(kind)])
    except ValueError:
        return kind


def _severity_label(rank: int) -> str:
    severities = list(Severity)
    return str(SEVERITY_LABELS[severities[rank]]) if 0 <= rank < len(severities) else str(rank)


def _severity_name(rank: int) -> str:
    """The stable name the stylesheet colours a severity badge by (`data-severity`)."""
    severities = list(Severity)
    return str(severities[rank].value) if 0 <= rank < len(severities) else ""


def _headline(signal: Signal) -> str:
    """What the signal is about in a few words: the rule, the detection, or the subject."""
    details = signal.details if isinstance(signal.details, dict) else {}
    for value in (
        signal.rule_name,
        details.get("detection"),
        details.get("subject"),
        details.get("target_account"),
        details.get("url"),
    ):
        if value:
            return str(value)
    return ""


def _rows(user: Actor, signals: list[Signal]) -> list[dict[str, Any]]:
    names = selectors.organization_names(user, {s.organization_id for s in signals})
    return [
        {
            "signal": s,
            "kind": _kind_label(s.kind),
            "severity": _severity_label(s.severity),
            "severity_name": _severity_name(s.severity),
            "organization": names.get(s.organization_id, f"#{s.organization_id}"),
            "headline": _headline(s),
        }
        for s in signals
    ]


def _svg_number(value: float) -> str:
    """A coordinate as SVG reads it. A float given to the template would be localized, and in
    Russian and Kazakh "95,5" is no SVG number: the browser drops the bar."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _chart(bars: list[tuple[datetime, int]], span: timedelta) -> dict[str, Any]:
    """Bars for a server-drawn SVG (no script, no inline style: CSP allows neither). Every
    coordinate is a string already, so no language's number format can reach the SVG."""
    peak = max((n for _hour, n in bars), default=0)
    tick_every = 6 if span <= timedelta(hours=24) else 24
    out = []
    for index, (hour, n) in enumerate(bars):
        height = n * (CHART_HEIGHT - 4) / peak if peak else 0.0
        local = timezone.localtime(hour)
        out.append(
            {
                "x": str(index * BAR_WIDTH + 1),
                "y": _svg_number(CHART_HEIGHT - height),
                "height": _svg_number(height),
                "count": n,
                "hour": local,
                "tick": local.hour % tick_every == 0,
                "tick_x": str(index * BAR_WIDTH),
            }
        )
    return {
        "bars": out,
        "peak": peak,
        "total": sum(n for _hour, n in bars),
        "width": str(max(1, len(bars)) * BAR_WIDTH),
        "height": str(CHART_HEIGHT),
        "view_height": str(CHART_HEIGHT + 16),
        "label_y": str(CHART_HEIGHT + 12),
        "bar_width": str(BAR_WIDTH - 2),
        "daily": tick_every == 24,
    }


def _query_without(request: HttpRequest, *names: str) -> str:
    params = [(k, str(v)) for k, v in request.GET.items() if k not in names and v]
    return urlencode(params)


@require_perm(Perm.SIGNAL_VIEW)
def signal_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    now = timezone.now()
    form = SignalFilterForm(request.GET or None, organizations=_organizations(user))
    filters = selectors.SignalFilter()
    span = timedelta(hours=24)
    chart_until: datetime | None = None
    if form.is_bound and form.is_valid():
        since, until = form.window(now)
        filters = selectors.SignalFilter(
            organization_id=form.cleaned_data.get("organization"),
            kind=form.cleaned_data["kind"] or None,
            since=since,
            until=until,
            indicator=form.cleaned_data["indicator"] or None,
        )
        if form.cleaned_data["period"] == "7d" or (
            since is not None and (until or now) - since > timedelta(hours=24)
        ):
            span = timedelta(days=7)
        chart_until = until
    rows: list[Signal] = []
    cursor = None
    if not form.is_bound or form.is_valid():
        try:
            rows, cursor = selectors.signal_page(
                user, filters, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
            )
        except AppError as exc:
            form.add_error(None, exc.fields.get("cursor", [exc.message])[0])
    end = chart_until or now
    bars = selectors.histogram(
        user,
        since=end - span,
        until=end,
        organization_id=filters.organization_id,
        kind=filters.kind,
        indicator=filters.indicator,
    )
    base = _query_without(request, "cursor")
    return render(
        request,
        "signals/list.html",
        {
            "form": form,
            "rows": _rows(user, rows),
            "older": f"?{base}{'&' if base else ''}{urlencode({'cursor': cursor})}"
            if cursor
            else "",
            "first_page": f"?{base}",
            "paged": bool(request.GET.get("cursor")),
            "chart": _chart(bars, span),
            "span_days": span.days,
        },
        status=422 if form.errors else 200,
    )


@require_perm(Perm.SIGNAL_VIEW)
def signal_detail(request: HttpRequest, seq: int) -> HttpResponse:
    user = acting_person(request)
    signal: Signal = _found(selectors.get_signal_for, user, seq)
    names = selectors.organization_names(user, {signal.organization_id})
    details = signal.details if isinstance(signal.details, dict) else {}
    pivots = {v for v in (signal.src_ip, signal.dst_ip, signal.ioc) if v}
    return render(
        request,
        "signals/detail.html",
        {
            "signal": signal,
            "kind": _kind_label(signal.kind),
            "severity": _severity_label(signal.severity),
            "severity_name": _severity_name(signal.severity),
            "organization": names.get(signal.organization_id, f"#{signal.organization_id}"),
            "module": selectors.module_name(signal),
            "headline": _headline(signal) or signal.product,
            "details": _details(details),
            "direction": _direction_label(signal.direction),
            "pivots": pivots,
        },
    )


# Kind-specific fields whose values are indicators worth pivoting on.
_PIVOT_DETAILS = frozenset({"sender", "urls", "attachment_hashes", "md5", "sha1", "sha256"})

# The kind-specific fields (schema.py) as a reader names them, in the order the page lists them.
DETAIL_LABELS = {
    "detection": gettext_lazy("Detection"),
    "category": gettext_lazy("Category"),
    "action": gettext_lazy("Action taken"),
    "matched_rule": gettext_lazy("Matched rule"),
    "method": gettext_lazy("HTTP method"),
    "url": gettext_lazy("URL"),
    "host": gettext_lazy("Host"),
    "status": gettext_lazy("HTTP status"),
    "sender": gettext_lazy("Sender address"),
    "subject": gettext_lazy("Subject"),
    "recipient_count": gettext_lazy("Recipients"),
    "urls": gettext_lazy("URLs in the message"),
    "attachment_hashes": gettext_lazy("Attachment hashes"),
    "file_name": gettext_lazy("File name"),
    "process": gettext_lazy("Process"),
    "user": gettext_lazy("User account"),
    "md5": TYPE_LABELS["md5"],
    "sha1": TYPE_LABELS["sha1"],
    "sha256": TYPE_LABELS["sha256"],
    "ports": gettext_lazy("Ports"),
    "port_count": gettext_lazy("Ports scanned"),
    "targets": gettext_lazy("Target addresses"),
    "target_count": gettext_lazy("Hosts scanned"),
    "target_account": gettext_lazy("Target account"),
    "accounts": gettext_lazy("Accounts tried"),
    "account_count": gettext_lazy("Accounts targeted"),
    "attempts": gettext_lazy("Attempts"),
}
_DETAIL_ORDER = {name: index for index, name in enumerate(DETAIL_LABELS)}
DIRECTION_LABELS = {
    Direction.EXTERNAL: gettext_lazy("External"),
    Direction.INTERNAL: gettext_lazy("Internal"),
}


def _details(details: dict[str, Any]) -> list[tuple[str, str, list[str], bool]]:
    """(field, its label, its values, whether they are indicators), in the page's order; a
    field this version does not know keeps its name."""
    names = sorted(details, key=lambda name: (_DETAIL_ORDER.get(name, len(_DETAIL_ORDER)), name))
    return [
        (
            name,
            str(DETAIL_LABELS.get(name, name)),
            _detail_items(details[name]),
            name in _PIVOT_DETAILS,
        )
        for name in names
    ]


def _direction_label(direction: str) -> str:
    try:
        return str(DIRECTION_LABELS[Direction(direction)])
    except ValueError:
        return direction


def _detail_items(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@require_perm(Perm.SIGNAL_VIEW)
def indicator(request: HttpRequest) -> HttpResponse:
    """The pivot: who saw this indicator (the center: every organization; an organization:
    itself) and the matching signals, newest first."""
    user = acting_person(request)
    value = (request.GET.get("value") or "").strip()[:2048]
    sightings: list[Any] = []
    summary: dict[str, Any] = {}
    rows: list[Signal] = []
    cursor = None
    error = ""
    # The text rule (R57.28.4): read straight from the query string, not through a form.
    unsafe = unsafe_text_message(value)
    if unsafe is not None:
        error, value = unsafe, ""
    if value:
        sightings = list(selectors.sightings_for(user, value=value).select_related("organization"))
        summary = selectors.sighting_summary(user, value=value)
        try:
            rows, cursor = selectors.signal_page(
                user,
                selectors.SignalFilter(indicator=value),
                cursor=request.GET.get("cursor") or None,
                limit=PAGE_SIZE,
            )
        except AppError as exc:
            error = exc.fields.get("cursor", [exc.message])[0]
    older = f"?{urlencode({'value': value, 'cursor': cursor})}" if cursor else ""
    return render(
        request,
        "signals/indicator.html",
        {
            "value": value,
            "canonical": selectors.canonical_indicator(value) if value else "",
            "sightings": sightings,
            "summary": summary,
            "rows": _rows(user, rows),
            "older": older,
            "error": error,
            "first_page": f"?{urlencode({'value': value})}",
            "paged": bool(request.GET.get("cursor")),
        },
        status=422 if error else 200,
    )


@require_perm(Perm.SIGNAL_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Totals of the last 24 hours per kind and per organization, and the indicators most
    organizations saw: rollups and sightings only, never raw signals."""
    user = acting_person(request)
    since = timezone.now() - timedelta(hours=24)
    by_kind = [
        {"kind": row["kind"], "label": _kind_label(row["kind"]), "n": row["n"]}
        for row in selectors.totals_by_kind(user, since=since)
    ]
    by_org = selectors.totals_by_organization(user, since=since)
    names = selectors.organization_names(user, {row["organization_id"] for row in by_org})
    for row in by_org:
        row["name"] = names.get(row["organization_id"], f"#{row['organization_id']}")
    top = selectors.top_indicators(user, since=since)
    for row in top:
        row["type_label"] = type_label(row["type"])
    return render(
        request,
        "signals/dashboard.html",
        {
            "by_kind": by_kind,
            "by_org": by_org,
            "total": sum(row["n"] or 0 for row in by_kind),
            "top": top,
            "center": user.is_center,
            "lag": selectors.counts_lag_shown(timezone.now()),
            "findings": (
                selectors.findings_for(user, state=FindingState.OPEN).count()
                if has_perm(user, Perm.CORRELATION_VIEW)
                else None
            ),
        },
    )


# --- correlation findings (the center's) ------------------------------------------------------


@require_perm(Perm.CORRELATION_VIEW)
def finding_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = FindingFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_bound and form.is_valid() else ""
    findings = list(selectors.findings_for(user, state=state or None)[:200])
    return render(request, "signals/findings.html", {"form": form, "findings": findings})


@require_perm(Perm.CORRELATION_VIEW)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    finding = _found(selectors.get_finding_for, user, pk)
    return render(
        request,
        "signals/finding.html",
        {
            "finding": finding,
            "sightings": selectors.finding_sightings(user, finding),
            "indicators": selectors.finding_indicators(user, finding),
            "holding": selectors.alerts_holding(user, finding),
            "merged": selectors.findings_merged_into(user, finding),
            "can_decide": (
                finding.state == FindingState.OPEN and has_perm(user, Perm.CORRELATION_PROMOTE)
            ),
            "dismiss_form": DismissForm(),
        },
    )


@require_POST
@require_perm(Perm.CORRELATION_PROMOTE)
def finding_promote(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    finding = _found(selectors.get_finding_for, user, pk)
    try:
        alert = services.finding_promote(actor=user, finding=finding)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("signals:finding", pk=finding.pk)
    messages.success(
        request,
        _("Draft threat alert %(ref)s created: complete it, then send it for publication.")
        % {"ref": alert.reference},
    )
    return redirect("alerts:update", pk=alert.pk)


@require_POST
@require_perm(Perm.CORRELATION_PROMOTE)
def finding_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    finding = _found(selectors.get_finding_for, user, pk)
    raw = request.POST.get("alert", "")
    chosen = next(
        (a for a in selectors.alerts_holding(user, finding) if str(a.pk) == raw.strip()), None
    )
    try:
        services.finding_link(actor=user, finding=finding, alert=chosen)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("signals:finding", pk=finding.pk)
    messages.success(
        request,
        _("Finding linked to alert %(ref)s.") % {"ref": chosen.reference if chosen else ""},
    )
    return redirect("signals:finding", pk=finding.pk)


@require_POST
@require_perm(Perm.CORRELATION_PROMOTE)
def finding_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    finding = _found(selectors.get_finding_for, user, pk)
    form = DismissForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("signals:finding", pk=finding.pk)
    try:
        services.finding_dismiss(actor=user, finding=finding, reason=form.cleaned_data["reason"])
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Finding dismissed."))
    return redirect("signals:finding", pk=finding.pk)
