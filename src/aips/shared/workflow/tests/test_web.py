"""The shared web flow of workflow items: a service's answer becomes the page's answer."""

from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory

from aips.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from aips.shared.workflow.web import form_status, run_action, save_form


def _request(method: str = "post", data: dict[str, Any] | None = None) -> HttpRequest:
    request: HttpRequest = getattr(RequestFactory(), method)("/", data or {})
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    return request


def _messages(request: HttpRequest) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(request)]


def _fail(exc: AppError) -> Any:
    def act(*_args: Any) -> str:
        raise exc

    return act


class _TitleForm(forms.Form):
    title = forms.CharField()


def _then() -> HttpResponse:
    return HttpResponse("back")


def test_run_action_flashes_success_and_answers_then() -> None:
    request = _request()
    response = run_action(request, lambda: "Done.", then=_then)
    assert response.content == b"back"
    assert _messages(request) == [("success", "Done.")]


def test_r57_28_2_run_action_flashes_every_field_error() -> None:
    request = _request()
    exc = ValidationFailed(fields={"file": ["Too big."], "title": ["Required."]})
    run_action(request, _fail(exc), then=_then)
    assert _messages(request) == [("error", "Too big."), ("error", "Required.")]


def test_run_action_flashes_a_conflict() -> None:
    request = _request()
    run_action(request, _fail(Conflict("Changed meanwhile.")), then=_then)
    assert _messages(request) == [("error", "Changed meanwhile.")]


@pytest.mark.parametrize(
    ("exc", "raised"), [(NotFound(), Http404), (Forbidden(), PermissionDenied)]
)
def test_r67_4_not_found_and_forbidden_stay_statuses(exc: AppError, raised: type) -> None:
    request = _request()
    with pytest.raises(raised):
        run_action(request, _fail(exc), then=_then)
    assert _messages(request) == []


def test_save_form_saves_only_a_valid_post() -> None:
    saved: list[dict[str, Any]] = []
    assert save_form(_request("get"), _TitleForm(), saved.append) is None
    invalid = _TitleForm({})
    assert save_form(_request(), invalid, saved.append) is None
    assert form_status(invalid) == 422
    valid = _TitleForm({"title": "x"})
    assert save_form(_request(), valid, lambda data: data["title"]) == "x"
    assert form_status(valid) == 200
    assert saved == []


def test_r57_28_2_save_form_puts_service_field_errors_on_the_form() -> None:
    form = _TitleForm({"title": "x"})
    result = save_form(
        _request(), form, _fail(ValidationFailed(fields={"title": ["Taken."], "other": ["No."]}))
    )
    assert result is None
    assert form.errors == {"title": ["Taken."], "__all__": ["No."]}
    assert form_status(form) == 422
