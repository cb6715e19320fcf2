"""The feeds: TAXII 2.1 (`/taxii2/`), the MISP feed (`/misp-feed/`) and the block-lists
(`/exports/blocklist/`). Plain Django views, not the REST API: they speak their own formats,
authenticate by token (`auth.py`) and answer each caller with `selectors.feed_alerts`. TAXII
errors are TAXII's error object; the MISP feed's and block-lists' are the API's error shape."""

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aips.center.exchange import feeds, selectors, services, stix, taxii
from aips.center.exchange.auth import feed_view
from aips.center.exchange.forms import ImportForm, PartnerSourceForm
from aips.center.exchange.parsing import MAX_BYTES
from aips.core.access import has_perm, require
from aips.core.actors import Actor
from aips.core.api_errors import error_response
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.permissions import Perm
from aips.core.tlp import Tlp
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person


def _api_error(request: HttpRequest, status: int, title: str, description: str) -> HttpResponse:
    return error_response(request, status, title)


def _base_url() -> str:
    return str(settings.AIPS_BASE_URL).rstrip("/")


# --- TAXII 2.1 ----------------------------------------------------------------------------------


def _not_acceptable(request: HttpRequest) -> HttpResponse | None:
    if taxii.accepts(request):
        return None
    return taxii.error(
        request,
        406,
        _("The requested media type is not supported."),
        _("Ask for %(type)s.") % {"type": taxii.TAXII_TYPE},
    )


def _submitter(actor: Actor) -> int | None:
    """The organization whose submissions collection the caller may write: a person with
    `exchange:submit` (a module reads only; a draft needs a person as its maker)."""
    if isinstance(actor, User) and has_perm(actor, Perm.EXCHANGE_SUBMIT):
        return actor.organization_id
    return None


def _collection_or_404(request: HttpRequest, collection_id: str, actor: Actor) -> Any:
    found = taxii.collection(collection_id, _submitter(actor))
    if found is None:
        return None, taxii.error(request, 404, _("No such collection."))
    return found, None


def _filters(request: HttpRequest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in ("id", "type", "version", "spec_version"):
        raw = request.GET.get(f"match[{key}]", "")
        if raw:
            out[key] = [v.strip() for v in raw.split(",") if v.strip()][:100]
    return out


class BadQuery(Exception):
    pass


def _paging(request: HttpRequest) -> tuple[Any, int, int]:
    added_after = None
    if raw := request.GET.get("added_after", ""):
        added_after = taxii.parse_timestamp(raw)
        if added_after is None:
            raise BadQuery(_("added_after is not a timestamp."))
    try:
        limit = int(request.GET.get("limit", taxii.DEFAULT_LIMIT))
        start = int(request.GET.get("next", "0") or "0")
    except ValueError as exc:
        raise BadQuery(_("limit and next must be whole numbers.")) from exc
    if limit < 1 or start < 0:
        raise BadQuery(_("limit and next must be whole numbers."))
    return added_after, min(limit, taxii.MAX_LIMIT), start


def _entries(
    actor: Actor, collection: taxii.Collection, added_after: Any = None
) -> Iterator[stix.Entry]:
    alerts = selectors.feed_alerts(actor=actor, tlp=collection.tlp, added_after=added_after)
    return stix.iter_entries(alerts.iterator(), selectors.center_identity(), _base_url())


@require_GET
@feed_view(taxii.error)
def taxii_discovery(request: HttpRequest, actor: Actor) -> HttpResponse:
    if refused := _not_acceptable(request):
        return refused
    root = request.build_absolute_uri(reverse("exchange:taxii_root"))
    return taxii.response(
        {
            "title": _("AIPS threat intelligence"),
            "description": _("Published alerts of the sectoral IS center as STIX 2.1."),
            "default": root,
            "api_roots": [root],
        }
    )


@require_GET
@feed_view(taxii.error)
def taxii_root(request: HttpRequest, actor: Actor) -> HttpResponse:
    if refused := _not_acceptable(request):
        return refused
    return taxii.response(
        {
            "title": _("AIPS alerts"),
            "description": _("Threat and vulnerability alerts with their indicators."),
            "versions": [taxii.TAXII_TYPE],
            "max_content_length": _max_content_length(),
        }
    )


@require_GET
@feed_view(taxii.error)
def taxii_collections(request: HttpRequest, actor: Actor) -> HttpResponse:
    if refused := _not_acceptable(request):
        return refused
    return taxii.response(
        {"collections": [taxii.collection_json(c) for c in taxii.collections(_submitter(actor))]}
    )


@require_GET
@feed_view(taxii.error)
def taxii_collection(request: HttpRequest, actor: Actor, collection_id: str) -> HttpResponse:
    if refused := _not_acceptable(request):
        return refused
    found, missing = _collection_or_404(request, collection_id, actor)
    if missing is not None:
        return missing  # type: ignore[no-any-return]
    return taxii.response(taxii.collection_json(found))


def _envelope_or_manifest(
    request: HttpRequest, actor: Actor, collection_id: str, *, manifest: bool
) -> HttpResponse:
    if refused := _not_acceptable(request):
        return refused
    found, missing = _collection_or_404(request, collection_id, actor)
    if missing is not None:
        return missing  # type: ignore[no-any-return]
    if found.submissions:
        return _write_only(request)
    try:
        added_after, limit, start = _paging(request)
    except BadQuery as exc:
        return taxii.error(request, 400, _("The query is not valid."), str(exc))
    filters = _filters(request)
    # Built lazily up to one past the page: enough to know whether there is more.
    matching = (e for e in _entries(actor, found, added_after) if taxii.matches(e, filters))
    entries = list(islice(matching, start + limit + 1))
    page = taxii.paginate(entries, limit=limit, start=start)
    body: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        body["next"] = page.next
    if page.entries:
        if manifest:
            body["objects"] = [
                {
                    "id": e.id,
                    "date_added": taxii.timestamp(e.date_added),
                    "version": taxii.timestamp(e.version) if e.version else "",
                    "media_type": taxii.STIX_TYPE,
                }
                for e in page.entries
            ]
        else:
            body["objects"] = [json.loads(e.obj.serialize()) for e in page.entries]
            services.restricted_served(actor=actor, alerts=[e.alert for e in page.entries])
    return taxii.response(body, headers=taxii.range_headers(page))


@csrf_exempt  # token-authenticated only: a browser session may not POST (feed_caller)
@require_http_methods(["GET", "HEAD", "POST"])
@feed_view(taxii.error)
def taxii_objects(request: HttpRequest, actor: Actor, collection_id: str) -> HttpResponse:
    if request.method == "POST":
        return _add_objects(request, actor, collection_id)
    return _envelope_or_manifest(request, actor, collection_id, manifest=False)


def _write_only(request: HttpRequest) -> HttpResponse:
    return taxii.error(request, 403, _("This collection is not readable; objects are added to it."))


def _max_content_length() -> int:
    return min(MAX_BYTES, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


def _add_objects(request: HttpRequest, actor: Actor, collection_id: str) -> HttpResponse:
    """TAXII 2.1 Add Objects (section 5.4): an envelope into the caller's submissions
    collection, read at once by the STIX import; 202 with the status resource."""
    if refused := _not_acceptable(request):
        return refused
    found, missing = _collection_or_404(request, collection_id, actor)
    if missing is not None:
        return missing  # type: ignore[no-any-return]
    if not found.submissions or not isinstance(actor, User):
        return taxii.error(request, 403, _("You may not add objects to this collection."))
    if not taxii.is_taxii_content(request):
        return taxii.error(
            request,
            415,
            _("The content type is not supported."),
            _("Send %(type)s.") % {"type": taxii.TAXII_TYPE},
        )
    try:
        body = request.body
    except RequestDataTooBig:
        body = b"x" * (_max_content_length() + 1)
    if len(body) > _max_content_length():
        return taxii.error(
            request,
            413,
            _("The envelope is too large."),
            _("At most %(n)d bytes.") % {"n": _max_content_length()},
        )
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        envelope = None
    objects = envelope.get("objects") if isinstance(envelope, dict) else None
    if (
        not isinstance(objects, list)
        or not objects
        or not all(isinstance(o, dict) for o in objects)
    ):
        return taxii.error(
            request,
            400,
            _("The body is not a TAXII envelope."),
            _("Send an object with a non-empty “objects” list of STIX objects."),
        )
    try:
        status = services.taxii_submit(actor=actor, objects=objects)
    except AppError as exc:
        return taxii.error(request, exc.status, exc.message)
    return taxii.response(_status_body(status), status=202)


def _stix_objects(objects: Any) -> bool:
    return isinstance(objects, list) and bool(objects) and all(isinstance(o, dict) for o in objects)


def _status_body(status: Any) -> dict[str, Any]:
    return taxii.status_json(
        str(status.id), status.created_at, status.successes, status.failures, status.pendings
    )


@require_GET
@feed_view(taxii.error)
def taxii_status(request: HttpRequest, actor: Actor, status_id: str) -> HttpResponse:
    """TAXII 2.1 Get Status (section 4.3): only the organization that added the objects sees
    it; anyone else, the center included, gets 404."""
    if refused := _not_acceptable(request):
        return refused
    status = selectors.get_submission_status_for(actor, status_id)
    if status is None:
        return taxii.error(request, 404, _("No such status."))
    return taxii.response(_status_body(status))


@require_GET
@feed_view(taxii.error)
def taxii_manifest(request: HttpRequest, actor: Actor, collection_id: str) -> HttpResponse:
    return _envelope_or_manifest(request, actor, collection_id, manifest=True)


def _one_object(
    request: HttpRequest, actor: Actor, collection_id: str, object_id: str
) -> tuple[list[stix.Entry], HttpResponse | None]:
    if refused := _not_acceptable(request):
        return [], refused
    found, missing = _collection_or_404(request, collection_id, actor)
    if missing is not None:
        return [], missing
    if found.submissions:
        return [], _write_only(request)
    entries = list(islice((e for e in _entries(actor, found) if e.id == object_id), 1))
    if not entries:
        return [], taxii.error(request, 404, _("No such object."))
    return entries, None


@require_GET
@feed_view(taxii.error)
def taxii_object(
    request: HttpRequest, actor: Actor, collection_id: str, object_id: str
) -> HttpResponse:
    entries, refused = _one_object(request, actor, collection_id, object_id)
    if refused is not None:
        return refused
    page = taxii.paginate(entries, limit=1, start=0)
    services.restricted_served(actor=actor, alerts=[e.alert for e in entries])
    return taxii.response(
        {"more": False, "objects": [json.loads(e.obj.serialize()) for e in entries]},
        headers=taxii.range_headers(page),
    )


@require_GET
@feed_view(taxii.error)
def taxii_object_versions(
    request: HttpRequest, actor: Actor, collection_id: str, object_id: str
) -> HttpResponse:
    entries, refused = _one_object(request, actor, collection_id, object_id)
    if refused is not None:
        return refused
    page = taxii.paginate(entries, limit=1, start=0)
    return taxii.response(
        {"more": False, "versions": [taxii.timestamp(e.version) for e in entries if e.version]},
        headers=taxii.range_headers(page),
    )


# --- block-lists --------------------------------------------------------------------------------


def _tlp_scope(request: HttpRequest) -> tuple[list[str] | None, str]:
    """`?tlp=CLEAR,GREEN`: only alerts with these labels (a firewall run by a contractor may
    take only what TLP:CLEAR and GREEN allow); absent, every label the caller may read."""
    raw = request.GET.get("tlp", "")
    if not raw:
        return None, "all TLP labels you may read"
    # An unencoded "+" (AMBER+STRICT) arrives as a space.
    levels = [
        part.strip().upper().replace(" ", "+").removeprefix("TLP:") for part in raw.split(",")
    ]
    valid = {t.value for t in Tlp}
    if not levels or any(level not in valid for level in levels):
        raise BadQuery(_("tlp must be a list of CLEAR, GREEN, AMBER, AMBER+STRICT, RED."))
    return levels, "TLP:" + ", TLP:".join(levels)


@require_GET
@feed_view(_api_error)
def blocklist(request: HttpRequest, actor: Actor, name: str) -> HttpResponse:
    if name not in feeds.BLOCKLISTS:
        return error_response(request, 404, _("Not found."))
    try:
        levels, scope = _tlp_scope(request)
    except BadQuery as exc:
        return error_response(request, 422, str(exc), fields={"tlp": [str(exc)]})
    alerts = [
        a
        for a in selectors.feed_alerts(actor=actor, current_only=True)
        if levels is None or a.tlp in levels
    ]
    text = feeds.blocklist_text(name, alerts, timezone.now(), scope)
    kinds = feeds.BLOCKLISTS[name]
    services.restricted_served(
        actor=actor,
        alerts=[a for a in alerts if any(i.get("type") in kinds for i in a.indicators)],
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


# --- the MISP feed ------------------------------------------------------------------------------


def _center() -> tuple[str, str]:
    identity = selectors.center_identity()
    return str(identity.name), str(identity.id).split("--", 1)[1]


@require_GET
@feed_view(_api_error)
def misp_manifest(request: HttpRequest, actor: Actor) -> HttpResponse:
    name, center_uuid = _center()
    body = {
        feeds.event_uuid(a): feeds.manifest_entry(a, name, center_uuid)
        for a in selectors.feed_alerts(actor=actor)
    }
    return JsonResponse(body)


@require_GET
@feed_view(_api_error)
def misp_event(request: HttpRequest, actor: Actor, event_uuid: str) -> HttpResponse:
    name, center_uuid = _center()
    for alert in selectors.feed_alerts(actor=actor):
        if feeds.event_uuid(alert) == str(event_uuid):
            services.restricted_served(actor=actor, alerts=[alert])
            return JsonResponse(feeds.misp_event(alert, name, center_uuid))
    return error_response(request, 404, _("Not found."))


@require_GET
@feed_view(_api_error)
def misp_hashes(request: HttpRequest, actor: Actor) -> HttpResponse:
    alerts = list(selectors.feed_alerts(actor=actor))
    text = feeds.hashes_csv(alerts)
    services.restricted_served(actor=actor, alerts=alerts)
    return HttpResponse(text, content_type="text/csv; charset=utf-8")


# --- import -------------------------------------------------------------------------------------


@require(Perm.ALERT_EDIT)
def import_file(request: HttpRequest) -> HttpResponse:
    """Draft alerts from an uploaded STIX 2.1 bundle or MISP event; what is wrong with a bad
    file is shown on the file field."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read(MAX_BYTES + 1)
        try:
            if form.cleaned_data["format"] == "misp":
                alerts = [services.misp_import(actor=acting_person(request), data=data)]
            else:
                alerts = services.stix_import(actor=acting_person(request), data=data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d draft alert made from the file; check it before sending it on.",
                    "%(n)d draft alerts made from the file; check them before sending them on.",
                    len(alerts),
                )
                % {"n": len(alerts)},
            )
            if len(alerts) == 1:
                return redirect("alerts:detail", pk=alerts[0].pk)
            return redirect(f"{reverse('alerts:list')}?state=draft")
    return render(
        request, "exchange/import.html", {"form": form}, status=422 if form.errors else 200
    )


# --- partners' TAXII collections (the center) -------------------------------------------------


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


@require(Perm.EXCHANGE_PARTNERS)
def partner_list(request: HttpRequest) -> HttpResponse:
    sources = selectors.partner_source_list(actor=acting_person(request))
    return render(request, "exchange/partners.html", {"sources": sources})


def _partner_form(
    request: HttpRequest, source: Any, form: PartnerSourceForm, title: str
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.partner_source_save(
                actor=acting_person(request), source=source, **form.cleaned_data
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved; the worker polls the source within a minute."))
            return redirect("exchange:partner_detail", pk=saved.pk)
    return render(
        request,
        "exchange/partner_form.html",
        {"form": form, "title": title, "source": source},
        status=422 if form.errors else 200,
    )


@require(Perm.EXCHANGE_PARTNERS)
def partner_create(request: HttpRequest) -> HttpResponse:
    form = PartnerSourceForm(_posted(request))
    return _partner_form(request, None, form, _("Add a partner's TAXII collection"))


@require(Perm.EXCHANGE_PARTNERS)
def partner_update(request: HttpRequest, pk: int) -> HttpResponse:
    source = selectors.get_partner_source_for(acting_person(request), pk)
    form = PartnerSourceForm(
        _posted(request),
        initial={
            "name": source.name,
            "api_root_url": source.api_root_url,
            "collection_id": source.collection_id,
            "username": source.username,
            "poll_minutes": source.poll_minutes,
            "enabled": source.enabled,
        },
    )
    return _partner_form(request, source, form, _("Edit the partner's TAXII collection"))


@require(Perm.EXCHANGE_PARTNERS)
@never_cache
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    source = selectors.get_partner_source_for(user, pk)
    polls = selectors.partner_polls(actor=user, source=source)
    return render(request, "exchange/partner_detail.html", {"source": source, "polls": polls})


@require(Perm.EXCHANGE_PARTNERS)
@require_POST
def partner_poll(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_person(request)
    source = selectors.get_partner_source_for(user, pk)
    services.partner_poll_soon(actor=user, source=source)
    messages.success(request, _("The worker polls the source within a minute."))
    return redirect("exchange:partner_detail", pk=source.pk)
