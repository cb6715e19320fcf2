from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from aips.center.incidents import selectors, services
from aips.center.incidents.forms import (
    AttachmentForm,
    CommentForm,
    FilterForm,
    IncidentForm,
    TransitionForm,
)
from aips.center.incidents.lifecycle import CARD_MACHINE
from aips.center.incidents.models import EDITABLE, IncidentCard, IncidentCardQuerySet
from aips.core.access import has_perm, require
from aips.core.actors import acting
from aips.core.errors import AppError, ValidationFailed
from aips.core.listing import Column, ListSpec, register, when
from aips.core.permissions import Perm
from aips.shared.accounts.listing import list_context, list_csv
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.web import download_response
from aips.shared.organizations.selectors import organization_list
from aips.shared.workflow import signing
from aips.shared.workflow.pages import item_context
from aips.shared.workflow.web import (
    bundle_response,
    flash_errors,
    form_status,
    raise_for_status,
    save_form,
    unconfirmed,
)

LIST = register(
    ListSpec(
        name="incidents",
        url_name="incidents:list",
        columns=(
            Column("reference", "id", _lazy("Card")),
            Column("title", "title", _lazy("Title")),
            Column("organization", "organization__name", _lazy("Organization")),
            Column("kind", "kind", _lazy("Type")),
            Column("state", "state", _lazy("Status")),
            Column("deadline", "deadline_at", _lazy("Deadline")),
        ),
        default_sort="-reference",
        search_fields=("title", "affected_systems", "organization__name"),
    )
)


def _filtered_cards(request: HttpRequest) -> tuple[FilterForm, IncidentCardQuerySet]:
    user = acting_person(request)
    orgs = (
        [(o.pk, o.display_name) for o in organization_list(actor=user) if not o.is_center]
        if user.is_center
        else None
    )
    form = FilterForm(request.GET or None, organizations=orgs)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "kind": data.get("kind") or "",
            "state": data.get("state") or "",
            "organization_id": data.get("organization"),
            "overdue": bool(data.get("overdue")),
        }
    return form, selectors.card_list(actor=user, **filters)


@require(Perm.INCIDENT_VIEW)
def incident_list(request: HttpRequest) -> HttpResponse:
    form, cards = _filtered_cards(request)
    return render(
        request,
        "incidents/list.html",
        {
            **list_context(request, LIST, cards),
            "filter_form": form,
            "csv_url": reverse("incidents:list_csv"),
        },
    )


@require(Perm.INCIDENT_VIEW)
def incident_list_csv(request: HttpRequest) -> HttpResponse:
    _form, cards = _filtered_cards(request)
    return list_csv(
        request,
        LIST,
        cards,
        header=["card", "title", "organization", "kind", "status", "tlp", "deadline_at"],
        cells=lambda c: [
            c.reference,
            c.title,
            c.organization.display_name,
            c.get_kind_display(),
            c.state_label,
            c.tlp,
            when(c.deadline_at),
        ],
    )


@require(Perm.INCIDENT_EDIT)
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None, initial={"tlp": "AMBER"})
    card = save_form(
        request, form, lambda data: services.card_create(actor=acting_person(request), **data)
    )
    if card is not None:
        messages.success(request, _("Draft %(ref)s saved.") % {"ref": card.reference})
        return redirect("incidents:detail", pk=card.pk)
    return render(
        request,
        "incidents/form.html",
        {"form": form, "title": _("New incident card")},
        status=form_status(form),
    )


@require(Perm.INCIDENT_EDIT)
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.get_card_for(request.user, pk)
    if card.state not in EDITABLE or card.organization_id != getattr(
        request.user, "organization_id", None
    ):
        messages.error(request, _("Only a draft or a returned card can be changed."))
        return redirect("incidents:detail", pk=card.pk)
    initial = {name: getattr(card, name) for name in services.FIELDS}
    form = IncidentForm(request.POST or None, initial=initial)
    try:
        saved = save_form(
            request,
            form,
            lambda data: services.card_update(actor=acting(request), card=card, **data),
        )
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("incidents:detail", pk=card.pk)
    if saved is not None:
        messages.success(request, _("Changes saved."))
        return redirect("incidents:detail", pk=card.pk)
    return render(
        request,
        "incidents/form.html",
        {"form": form, "title": _("Edit %(ref)s") % {"ref": card.reference}, "card": card},
        status=form_status(form),
    )


@require(Perm.INCIDENT_VIEW)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    card = selectors.get_card_for(user, pk)
    services.card_viewed(actor=user, card=card)
    page = item_context(
        item=card,
        machine=CARD_MACHINE,
        comments=selectors.timeline(actor=user, card=card),
        versions=selectors.versions(card),
        model=IncidentCard,
    )
    editable = (
        card.state in EDITABLE
        and has_perm(user, Perm.INCIDENT_EDIT)
        and user.organization_id == card.organization_id
    )
    return render(
        request,
        "incidents/detail.html",
        {
            "card": card,
            "actions": CARD_MACHINE.allowed(user, card),
            **page,
            "editable": editable,
            "transition_form": TransitionForm(),
            "comment_form": CommentForm(center=user.is_center),
            "attachment_form": AttachmentForm(),
            # The head's approval may be signed with EDS (issue 16, item 4).
            "eds": services.card_page_documents(actor=user, card=card),
            "signatures": signing.shown(
                selectors.signatures(actor=user, card=card),
                url=lambda act: reverse("incidents:signature_bundle", args=[card.pk, act.pk]),
            ),
        },
    )


@require(Perm.INCIDENT_VIEW)
@require_POST
def incident_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    card = selectors.get_card_for(request.user, pk)
    if unconfirmed(request, CARD_MACHINE, name, actor=acting_person(request), item=card):
        return redirect("incidents:detail", pk=pk)
    form = TransitionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        card = services.card_transition(
            actor=acting_person(request),
            card=card,
            name=name,
            comment=comment,
            eds_signature=request.POST.get("eds_signature", ""),
        )
    except ValidationFailed as exc:
        if "comment" in exc.fields:
            messages.error(request, _("Give a reason in the comment."))
        else:
            flash_errors(request, exc)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Status: %(state)s.") % {"state": card.state_label})
    return redirect("incidents:detail", pk=pk)


@require(Perm.INCIDENT_COMMENT)
@require_POST
def incident_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    card = selectors.get_card_for(user, pk)
    form = CommentForm(request.POST, center=user.is_center)
    if form.is_valid():
        services.comment_add(
            actor=user,
            card=card,
            body=form.cleaned_data["body"],
            internal=bool(form.cleaned_data.get("internal")),
        )
        messages.success(request, _("Comment added."))
    else:
        messages.error(request, _("Write something first."))
    return redirect("incidents:detail", pk=pk)


@require(Perm.INCIDENT_EDIT)
@require_POST
def incident_attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.get_card_for(request.user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("incidents:detail", pk=pk)
    try:
        services.attachment_add(
            actor=acting_person(request), card=card, upload=form.cleaned_data["file"]
        )
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("File attached."))
    return redirect("incidents:detail", pk=pk)


@require(Perm.INCIDENT_VIEW)
def incident_attachment_download(
    request: HttpRequest, pk: int, attachment_pk: int
) -> HttpResponseBase:
    """Always a download, never rendered inline: the browser must not interpret the file."""
    attachment = selectors.get_attachment_for(request.user, pk, attachment_pk)
    return download_response(
        attachment,
        served=lambda: services.attachment_downloaded(actor=acting(request), attachment=attachment),
    )


@require(Perm.INCIDENT_VIEW)
def incident_signature_bundle(request: HttpRequest, pk: int, sid: int) -> HttpResponseBase:
    """The verifiable bundle of an EDS-signed approval of the card (`aips eds verify` reads it);
    whoever may see the card may take it, anyone else gets 404."""
    user = acting_person(request)
    card = selectors.get_card_for(user, pk)
    act = selectors.get_signature_for(user, card, sid)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, card=card, act=act)
    )
