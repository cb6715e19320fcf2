"""What every product's API shares (aips/api.py for AIPS, aips/api_etp.py for the ETP): the
throttles, the API reference page at /api/v1/docs and the health check. Each product assembles
its own `NinjaAPI` from its routers; the error shape (`core.api_errors.install`) and the input
rules (`core.api_parser`) are the same for both."""

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Schema, Status, Swagger
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from aips.core.access import public
from aips.core.health import run_checks


def api_throttles() -> list[Any]:
    return [
        AnonRateThrottle(settings.AIPS_API_RATE_ANON),
        UserRateThrottle(settings.AIPS_API_RATE_USER),
    ]


class ApiReference(Swagger):
    """Swagger UI at /api/v1/docs, from ninja's own copy under /static/ninja/ (no CDN). The page
    holds no inline script: its settings are a JSON block that ninja's swagger-ui-init.js reads,
    so it runs under the site's CSP as it is."""

    def __init__(self) -> None:
        # No validator: Swagger UI would otherwise send the schema to validator.swagger.io.
        super().__init__(
            settings={"validatorUrl": None, "docExpansion": "list", "displayOperationId": True}
        )

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        # The session auth checks CSRF itself (ninja sees csrf=False), so ninja would leave the
        # token out and "Try it out" would fail on writes for a signed-in person; put it in.
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "swagger_settings": json.dumps(settings),
            "api": api,
            "add_csrf": True,
        }
        return render(request, self.template, context)


class HealthOut(Schema):
    status: str  # ok | degraded (a non-critical check failed) | unavailable (503)
    database: str
    checks: dict[str, str]


def add_health(api: NinjaAPI) -> None:
    """GET /health: every check registered in `core.health` (the database, the worker's
    heartbeat, ClamAV...). 503 when a critical one (the database) fails, for load balancers and
    `make run`; "degraded" with 200 when another does."""

    @api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, operation_id="health")
    @public
    def health(request: HttpRequest) -> Any:
        result = run_checks()
        body = {
            "status": result.status,
            "database": result.checks.get("database", ""),
            "checks": result.checks,
        }
        return Status(200 if result.available else 503, body)
