"""Alert pages (R67.3.3, R67.3.5, R67.10, R67.13, R67.15): the list, the form and the import of
an advisory, the alert with its workflow and its acknowledgements, and the center's compliance
matrix with its CSV export."""

import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from aips.center.alerts import csaf_batch, selectors, services
from aips.center.alerts.forms import (
    AlertForm,
    CsafBatchForm,
    DeclineForm,
    FilterForm,
    ImportForm,
    ThreatTypeForm,
    TransitionForm,
)
from aips.center.alerts.lifecycle import ALERT_MACHINE
from aips.center.alerts.models import Alert, AlertRecipient, RecipientStatus
from aips.core.access import has_perm, require
from aips.core.actors import Actor, acting
from aips.core.csv_export import csv_row, csv_writer
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.listing import Column, ListSpec, register, when
from aips.core.numbers import BIGINT_MAX
from aips.core.permissions import Perm
from aips.shared.accounts.listing import list_context, list_csv
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person
from aips.shared.organizations.selectors import organization_list
from aips.shared.workflow import signing
from aips.shared.workflow.engine import versions_of
from aips.shared.workflow.pages import item_context
from aips.shared.workflow.web import (
    bundle_response,
    form_status,
    raise_for_status,
    run_action,
    save_form,
    unconfirmed,
)

# Published alerts shown as rows of the compliance matrix (the CSV has them all).
MATRIX_ALERTS = 50


def _threat_types() -> list[tuple[int, str]]:
    return [(t.pk, t.display_name) for t in selectors.threat_types()]


def _author(alert: Alert, user: Actor) -> str:
    """Who an alert is from, as this reader may know it: an anonymous organization's alert is
    the center's for everyone but the center and the organization itself."""
    if alert.anonymous and not user.is_center and user.organization_id != alert.organization_id:
        return _("The center")
    return alert.organization.display_name


# No "author" column to sort or search by: an anonymous alert's organization is not every
# reader's to know, and its place in an order by name would tell it.
LIST = register(
    ListSpec(
        name="alerts",
        url_name="alerts:list",
        columns=(
            Column("reference", "id", _lazy("Alert")),
            Column("title", "title", _lazy("Title")),
            Column("kind", "kind", _lazy("Kind")),
            Column("level", "level", _lazy("Threat level")),
            Column("state", "state", _lazy("Status")),
            Column("published", "published_at", _lazy("Published")),
            Column("deadline", "deadline_at", _lazy("Deadline")),
        ),
        default_sort="-reference",
        search_fields=("title",),
    )
)


def _filtered_alerts(request: HttpRequest) -> tuple[FilterForm, Any]:
    user = acting_person(request)
    form = FilterForm(request.GET or None)
    filters: dict[str, str] = {}
    if form.is_valid():
        filters = {"kind": form.cleaned_data["kind"], "state": form.cleaned_data["state"]}
    return form, selectors.alert_list(actor=user, **filters)


@require(Perm.ALERT_VIEW)
def alert_list(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form, qs = _filtered_alerts(request)
    context = list_context(request, LIST, qs)
    alerts = context["listing"].rows
    own = (
        {}
        if user.is_center
        else selectors.own_recipients(actor=user, alert_ids=[a.pk for a in alerts])
    )
    rows = [(a, _author(a, user), own.get(a.pk)) for a in alerts]
    return render(
        request,
        "alerts/list.html",
        {
            **context,
            "rows": rows,
            "filter_form": form,
            "receiver": not user.is_center,
            "csv_url": reverse("alerts:list_csv"),
        },
    )


@require(Perm.ALERT_VIEW)
def alert_list_csv(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    _form, qs = _filtered_alerts(request)
    return list_csv(
        request,
        LIST,
        qs,
        header=["alert", "title", "author", "kind", "level", "status", "tlp", "published_at"],
        cells=lambda a: [
            a.reference,
            a.title,
            _author(a, user),
            a.get_kind_display(),
            a.get_level_display(),
            a.state_label,
            a.tlp,
            when(a.published_at),
        ],
    )


@require(Perm.ALERT_EDIT)
def alert_create(request: HttpRequest) -> HttpResponse:
    user = acting_person(request)
    form = AlertForm(
        request.POST or None,
        threat_types=_threat_types(),
        center=user.is_center,
        initial={"kind": "threat", "tlp": "AMBER", "level": "medium"},
    )
    alert = save_form(request, form, lambda data: services.alert_create(actor=user, **data))
    if alert is not None:
        messages.success(request, _("Draft %(ref)s saved.") % {"ref": alert.reference})
        return redirect("alerts:detail", pk=alert.pk)
    return render(
        request,
        "alerts/form.html",
        {"form": form, "title": _("New alert")},
        status=form_status(form),
    )


@require(Perm.ALERT_EDIT)
def alert_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    alert = selectors.get_alert_for(user, pk)
    if alert.state not in services.EDITABLE or alert.organization_id != user.organization_id:
        messages.error(request, _("Only a draft or a returned alert can be changed."))
        return redirect("alerts:detail", pk=alert.pk)
    initial = {name: getattr(alert, name) for name in services.FIELDS}
    form = AlertForm(
        request.POST or None,
        threat_types=_threat_types(),
        center=user.is_center,
        initial=initial,
    )
    try:
        saved = save_form(
            request, form, lambda data: services.alert_update(actor=user, alert=alert, **data)
        )
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
        return redirect("alerts:detail", pk=alert.pk)
    if saved is not None:
        messages.success(request, _("Changes saved."))
        return redirect("alerts:detail", pk=alert.pk)
    return render(
        request,
        "alerts/form.html",
        {"form": form, "title": _("Edit %(ref)s") % {"ref": alert.reference}, "alert": alert},
        status=form_status(form),
    )


@require(Perm.ALERT_EDIT)
def alert_import(request: HttpRequest) -> HttpResponse:
    """A draft vulnerability alert from an uploaded CSAF 2.0 or NVD CVE JSON 2.0 file (R67.3.5);
    what is wrong with a bad file is shown on the file field."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            alert = services.alert_import(
                actor=acting_person(request),
                data=upload,
                size=upload.size,
                tlp=form.cleaned_data["tlp"],
                level=form.cleaned_data.get("level") or "",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Draft %(ref)s made from the file; check it before sending it on.")
                % {"ref": alert.reference},
            )
            return redirect("alerts:detail", pk=alert.pk)
    return render(request, "alerts/import.html", {"form": form}, status=422 if form.errors else 200)


@require(Perm.ALERT_EDIT)
def csaf_batch_start(request: HttpRequest) -> HttpResponse:
    """Drafts from every advisory of a ROLIE feed or a provider-metadata.json (R67.3.5), given
    as a file or a URL; the worker fetches the advisories, the batch's page shows the outcome."""
    form = CsafBatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            batch = csaf_batch.csaf_batch_start(
                actor=acting_person(request),
                data=upload,
                size=upload.size if upload is not None else None,
                file_name=upload.name if upload is not None else "",
                url=form.cleaned_data.get("url") or "",
                tlp=form.cleaned_data["tlp"],
                level=form.cleaned_data.get("level") or "",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Batch started: the advisories are fetched in the background."),
            )
            return redirect("alerts:csaf_batch", pk=batch.pk)
    return render(
        request, "alerts/csaf_batch_form.html", {"form": form}, status=422 if form.errors else 200
    )


@require(Perm.ALERT_EDIT)
def csaf_batch_list(request: HttpRequest) -> HttpResponse:
    batches = list(csaf_batch.visible_batches(actor=acting(request))[:100])
    rows = [(b, csaf_batch.batch_counts(b)) for b in batches]
    return render(request, "alerts/csaf_batch_list.html", {"rows": rows})


@require(Perm.ALERT_EDIT)
def csaf_batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = csaf_batch.get_batch_for(acting(request), pk)
    return render(
        request,
        "alerts/csaf_batch_detail.html",
        {
            "batch": batch,
            "counts": csaf_batch.batch_counts(batch),
            "items": list(batch.items.select_related("alert")),
        },
    )


@require(Perm.ALERT_VIEW)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    alert = selectors.get_alert_for(user, pk)
    services.alert_viewed(actor=user, alert=alert)
    actions = ALERT_MACHINE.allowed(user, alert)
    if user.is_center:
        # The center publishes its own alerts directly; it has no head to ask.
        actions = [t for t in actions if t.name != "request_approval"]
    targeted = alert.tlp in services.TARGETED_TLP and any(
        t.name in ("publish", "publish_direct") for t in actions
    )
    audience = (
        [
            (o.pk, o.display_name)
            for o in organization_list(actor=user)
            if not o.is_center and o.is_active
        ]
        if targeted
        else []
    )
    recipient = None if user.is_center else selectors.recipient_for(user, alert)
    # Who moved it when, and what changed between submissions, are for its own organization
    # and the center, like its comments; the organizations that received it see neither.
    insider = user.is_center or user.organization_id == alert.organization_id
    page = item_context(
        item=alert,
        machine=ALERT_MACHINE,
        comments=selectors.timeline(actor=user, alert=alert),
        versions=list(versions_of(alert)) if insider else [],
        model=Alert,
        steps=insider,
    )
    editable = (
        alert.state in services.EDITABLE
        and has_perm(user, Perm.ALERT_EDIT)
        and user.organization_id == alert.organization_id
    )
    can_answer = (
        recipient is not None
        and recipient.status == RecipientStatus.DELIVERED
        and has_perm(user, Perm.ALERT_ACKNOWLEDGE)
    )
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "author": _author(alert, user),
            "anonymous_note": alert.anonymous
            and (user.is_center or user.organization_id == alert.organization_id),
            "readable": selectors.may_read_content(user, alert),
            "actions": actions,
            "targeted": targeted,
            "audience": audience,
            "editable": editable,
            **page,
            "recipient": recipient,
            "can_answer": can_answer,
            # The head's approval and answers may be signed with EDS (issue 16, item 4).
            "eds": services.alert_page_documents(
                actor=user, alert=alert, actions=actions, answering=can_answer
            ),
            "signatures": signing.shown(
                selectors.signatures(actor=user, alert=alert),
                url=lambda act: reverse("alerts:signature_bundle", args=[alert.pk, act.pk]),
            ),
            "can_process": recipient is not None
            and recipient.status == RecipientStatus.ACCEPTED
            and has_perm(user, Perm.ALERT_PROCESS),
            "recipients": list(selectors.recipients(actor=user, alert=alert))
            if user.is_center
            else [],
            "transition_form": TransitionForm(),
            "decline_form": DeclineForm(),
            # Declining is final (R67.13): the form asks for the same "I confirm" box as an
            # irreversible workflow step; the partial reads `confirm` off what it is given.
            "decline_confirm": {"confirm": True},
        },
    )


@require(Perm.ALERT_VIEW)
@require_POST
def alert_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = acting_person(request)
    alert = selectors.get_alert_for(user, pk)
    if unconfirmed(request, ALERT_MACHINE, name, actor=user, item=alert):
        return redirect("alerts:detail", pk=pk)
    form = TransitionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    # Unchecked boxes are simply absent; anything that is not an id in range names nothing.
    organization_ids = [
        int(value)
        for value in request.POST.getlist("organizations")
        if re.fullmatch(r"[0-9]{1,19}", value.strip()) and 0 < int(value) <= BIGINT_MAX
    ]

    def act() -> str:
        done = services.alert_transition(
            actor=user,
            alert=alert,
            name=name,
            comment=comment,
            organization_ids=organization_ids or None,
            eds_signature=request.POST.get("eds_signature", ""),
        )
        return _("Status: %(state)s.") % {"state": done.state_label}

    return run_action(request, act, then=lambda: redirect("alerts:detail", pk=pk))


def _answer(
    request: HttpRequest,
    pk: int,
    rid: int,
    act: Callable[[AlertRecipient], AlertRecipient],
) -> HttpResponse:
    """An organization's acknowledgement of its copy; another organization's row is a 404."""
    recipient = selectors.get_recipient_for(acting(request), pk, rid)

    def answer() -> str:
        answered = act(recipient)
        return _("Acknowledgement: %(status)s.") % {"status": answered.status_label}

    return run_action(request, answer, then=lambda: redirect("alerts:detail", pk=pk))


@require(Perm.ALERT_ACKNOWLEDGE)
@require_POST
def recipient_accept(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    return _answer(
        request,
        pk,
        rid,
        lambda r: services.recipient_accept(
            actor=acting_person(request),
            recipient=r,
            eds_signature=request.POST.get("eds_signature", ""),
        ),
    )


@require(Perm.ALERT_ACKNOWLEDGE)
@require_POST
def recipient_decline(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    """A decline cannot be taken back, so the page's form must carry its "I confirm" box; the
    API's decline is a deliberate call and asks for none. Another organization's row is still
    a 404 and an answered one is left to the service, as for a workflow step."""
    recipient = selectors.get_recipient_for(acting(request), pk, rid)
    if recipient.status == RecipientStatus.DELIVERED and request.POST.get("confirm") != "yes":
        messages.error(
            request,
            _("“%(action)s” cannot be undone: tick “I confirm” and press the button again.")
            % {"action": _("Decline the recommendations")},
        )
        return redirect("alerts:detail", pk=pk)
    form = DeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _answer(
        request,
        pk,
        rid,
        lambda r: services.recipient_decline(
            actor=acting_person(request),
            recipient=r,
            reason=reason,
            eds_signature=request.POST.get("eds_signature", ""),
        ),
    )


@require(Perm.ALERT_PROCESS)
@require_POST
def recipient_processed(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    return _answer(
        request,
        pk,
        rid,
        lambda r: services.recipient_processed(actor=acting_person(request), recipient=r),
    )


@require(Perm.ALERT_VIEW)
def alert_signature_bundle(request: HttpRequest, pk: int, sid: int) -> HttpResponseBase:
    """The verifiable bundle of an EDS-signed approval or acknowledgement, for whoever may see
    that act on the alert's page; anyone else gets 404."""
    user = acting_person(request)
    alert = selectors.get_alert_for(user, pk)
    act = selectors.get_signature_for(user, alert, sid)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, alert=alert, act=act)
    )


# --- the center's compliance view (R67.13) -------------------------------------------------------


def _center_only(request: HttpRequest) -> User:
    """The center's staff (administrators, analysts, auditors): every organization's answers."""
    user = acting_person(request)
    if not user.is_center:
        raise PermissionDenied
    return user


def _matrix(rows: list[AlertRecipient]) -> dict[str, Any]:
    """Alerts (newest first) × organizations (by name), each cell a recipient row or None; and
    per organization: delivered, answered in time, late, on-time rate."""
    organizations: dict[int, Any] = {}
    alerts: dict[int, Alert] = {}
    cells: dict[tuple[int, int], AlertRecipient] = {}
    for row in rows:
        organizations.setdefault(row.organization_id, row.organization)
        alerts.setdefault(row.alert_id, row.alert)
        cells[(row.alert_id, row.organization_id)] = row
    columns = sorted(organizations.values(), key=lambda o: o.display_name.casefold())
    shown = sorted(alerts.values(), key=lambda a: -a.pk)[:MATRIX_ALERTS]
    lines = [(a, [cells.get((a.pk, o.pk)) for o in columns]) for a in shown]
    late = {o.pk: 0 for o in columns}
    pending = {o.pk: 0 for o in columns}
    for row in rows:
        if row.late:
            late[row.organization_id] += 1
        elif row.responded_at is None:
            pending[row.organization_id] += 1  # unanswered, but its deadline has not passed
    return {
        "columns": columns,
        "lines": lines,
        "more": max(0, len(alerts) - MATRIX_ALERTS),
        "late": late,
        "pending": pending,
        "organizations": organizations,
    }


def _rates(rates: list[dict[str, Any]], matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The on-time rate counts only what is decided: answered, or past its deadline. An alert
    still within its working day counts neither way."""
    out = []
    for rate in rates:
        org_id = rate["organization_id"]
        org = matrix["organizations"].get(org_id)
        on_time = int(rate["on_time"])
        late = matrix["late"].get(org_id, 0)
        out.append(
            {
                "organization": org.display_name if org else rate["organization__name"],
                "delivered": int(rate["delivered"]),
                "on_time": on_time,
                "late": late,
                "pending": matrix["pending"].get(org_id, 0),
                "rate": round(100 * on_time / (on_time + late)) if on_time + late else None,
            }
        )
    return sorted(out, key=lambda r: str(r["organization"]).casefold())


@require(Perm.ALERT_VIEW)
def alert_compliance(request: HttpRequest) -> HttpResponse:
    user = _center_only(request)
    data = selectors.compliance(actor=user)
    matrix = _matrix(data["rows"])
    return render(
        request,
        "alerts/compliance.html",
        {**matrix, "rates": _rates(data["rates"], matrix)},
    )


def _when(at: datetime | None) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds") if at else ""


@require(Perm.ALERT_VIEW, fresh=True)
def alert_compliance_csv(request: HttpRequest) -> HttpResponse:
    user = _center_only(request)
    rows = selectors.compliance(actor=user)["rows"]
    services.compliance_exported(actor=user, rows=len(rows))
    buffer = io.StringIO()
    # The byte-order mark lets spreadsheet programs read Kazakh and Russian text as UTF-8.
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow(
        [
            "alert",
            "title",
            "tlp",
            "published_at",
            "organization_bin",
            "organization",
            "status",
            "status_label",
            "delivered_at",
            "due_at",
            "responded_at",
            "late",
            "reason",
            "processed_at",
        ]
    )
    for r in rows:
        cells = [
            r.alert.reference,
            r.alert.title,
            r.alert.tlp,
            _when(r.alert.published_at),
            r.organization.bin,
            r.organization.display_name,
            r.status,
            r.status_label,
            _when(r.delivered_at),
            _when(r.due_at),
            _when(r.responded_at),
            "yes" if r.late else "no",
            r.reason,
            _when(r.processed_at),
        ]
        writer.writerow(csv_row(cells))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="aips-alert-compliance-{stamp}.csv"'
    add_never_cache_headers(response)
    return response


@require(Perm.THREAT_TYPE_MANAGE)
def threat_types(request: HttpRequest) -> HttpResponse:
    """The managed list of threat types, seeded from ENISA's reference taxonomy (R67.10)."""
    form = ThreatTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.threat_type_set(actor=acting(request), **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("alerts:threat_types")
    return render(
        request,
        "alerts/threat_types.html",
        {"form": form, "types": selectors.all_threat_types()},
        status=422 if form.errors else 200,
    )
