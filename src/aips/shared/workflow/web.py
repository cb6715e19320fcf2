"""The web side every workflow item shares: a service's refusal becomes the page's answer.

A view runs one service call (a transition, a comment, an attachment) and redirects back to the
item. Field errors and refusals become flash messages; "not found" and "forbidden" stay HTTP
statuses, so a page never reveals more than the API would."""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from aips.core.actors import Actor
from aips.core.errors import AppError, ValidationFailed
from aips.core.forms import apply_errors
from aips.shared.workflow import signing
from aips.shared.workflow.engine import Machine
from aips.shared.workflow.models import SignedAct, WorkflowItem

T = TypeVar("T")


def save_form(
    request: HttpRequest, form: forms.Form, save: Callable[[dict[str, Any]], T]
) -> T | None:
    """The form → service → field-errors flow: on a valid POST, hand the cleaned data to the
    service; its field errors land next to the form's fields. None when nothing was saved
    (other refusals, AppError, are the caller's to answer)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return None


def form_status(form: forms.Form) -> int:
    """A form shown again with errors is a 422, so clients and tests see the refusal."""
    return 422 if form.errors else 200


def raise_for_status(exc: AppError) -> None:
    """404 and 403 from a service are the page's status, not a message."""
    if exc.status == 404:
        raise Http404 from exc
    if exc.status == 403:
        raise PermissionDenied from exc


def flash_errors(request: HttpRequest, exc: ValidationFailed) -> None:
    for errors in exc.fields.values():
        for message in errors:
            messages.error(request, message)
    if not exc.fields:
        messages.error(request, exc.message)


def run_action(
    request: HttpRequest, act: Callable[[], str], *, then: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run one action (which returns its success message), flash the outcome, answer `then()`."""
    try:
        done = act()
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return then()


def unconfirmed(
    request: HttpRequest, machine: Machine, name: str, *, actor: Actor, item: WorkflowItem
) -> bool:
    """An irreversible step (`Transition.confirm`) posted without its "I confirm" box: the page
    says so and nothing changes. The box is `required` in the form, so a browser stops the
    submission first; this check holds without it (no script is needed, none is allowed).
    A step the actor may not take at all is left to the service, whose 403 or 409 stands."""
    step = machine.transitions.get(name)
    if step is None or not step.confirm or request.POST.get("confirm") == "yes":
        return False
    if step not in machine.allowed(actor, item):
        return False
    messages.error(
        request,
        _("“%(action)s” cannot be undone: tick “I confirm” and press the button again.")
        % {"action": step.label},
    )
    return True


def bundle_response(act: SignedAct, *, served: Callable[[], None]) -> HttpResponseBase:
    """An EDS-signed act's bundle as a download (pages and the API alike); `served` (the
    owner's audit event) runs once the bundle is built."""
    data = signing.bundle(act)
    served()
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="aips-signature-{act.pk}.zip"'
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
