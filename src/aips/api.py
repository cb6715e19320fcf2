"""The REST API under /api/v1/: assembled here from each domain's router."""

import json
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Schema, Status, Swagger
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from aips.center.alerts.api import router as alerts_router
from aips.center.incidents.api import router as incidents_router
from aips.center.inquiries.api import router as requests_router
from aips.center.integrations.api import router as integrations_router
from aips.center.signals.api import correlations_router
from aips.center.signals.api import router as signals_router
from aips.center.signals.schema import json_schema
from aips.core import api_errors, openapi
from aips.core.access import public
from aips.core.api_parser import AipsParser, refuse_unsafe_path_text
from aips.shared.accounts.api import router as users_router
from aips.shared.accounts.api_auth import api_auth
from aips.shared.organizations.api import router as organizations_router


def _throttles() -> list[Any]:
    from django.conf import settings

    return [
        AnonRateThrottle(settings.AIPS_API_RATE_ANON),
        UserRateThrottle(settings.AIPS_API_RATE_USER),
    ]


class AipsAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        # The signal batch is decoded by msgspec, not pydantic: its schema (one definition per
        # event kind) is added to the components that the ingest operation refers to.
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            json_schema()["components"]
        )
        # Ninja documents success only; every operation's error responses are added here.
        return openapi.document_errors(schema)


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


api = AipsAPI(
    title="AIPS API",
    version="1",
    description="The API of AIPS, the financial sector's system for IS events and incidents.",
    urls_namespace="api",
    auth=api_auth(None),
    docs=ApiReference(),
    docs_url="/docs",
    throttle=_throttles(),
    parser=AipsParser(),
)
api.add_decorator(refuse_unsafe_path_text)
api_errors.install(api)
api.add_router("/organizations", organizations_router)
api.add_router("/users", users_router)
api.add_router("/incidents", incidents_router)
api.add_router("/alerts", alerts_router)
api.add_router("/requests", requests_router)
api.add_router("/signals", signals_router)
api.add_router("/correlations", correlations_router)
api.add_router("/integrations", integrations_router)


class HealthOut(Schema):
    status: str
    database: str


@api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, operation_id="health")
@public
def health(request: HttpRequest) -> Any:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"
        return Status(503, {"status": "unavailable", "database": "unreachable"})
    return Status(200, {"status": "ok", "database": "ok"})
