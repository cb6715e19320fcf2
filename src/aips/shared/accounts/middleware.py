from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from aips.shared.accounts import sessions


class SessionGuardMiddleware:
    """Idle (15 min) and absolute (8 h) session limits on every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        expired = request.user.is_authenticated and not sessions.touch(request)
        if expired and not request.path.startswith("/api/"):
            messages.info(request, _("Your session has expired. Please sign in again."))
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
