"""The REST API under /api/v1/: assembled here from each domain's router."""

from typing import Any

from ninja import NinjaAPI

from aips.center.alerts.api import router as alerts_router
from aips.center.exchange.api import router as exchange_router
from aips.center.incidents.api import router as incidents_router
from aips.center.inquiries.api import router as requests_router
from aips.center.integrations.api import router as integrations_router
from aips.center.signals.api import correlations_router
from aips.center.signals.api import router as signals_router
from aips.center.signals.schema import json_schema
from aips.core import api_errors, openapi
from aips.core.api_parser import AipsParser, refuse_unsafe_path_text
from aips.core.api_site import ApiReference, add_health, api_throttles
from aips.shared.accounts.api import router as users_router
from aips.shared.accounts.api_auth import api_auth
from aips.shared.biometrics.api import router as biometrics_router
from aips.shared.organizations.api import router as organizations_router


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


api = AipsAPI(
    title="AIPS API",
    version="1",
    description="The API of AIPS, the financial sector's system for IS events and incidents.",
    urls_namespace="api",
    auth=api_auth(None),
    docs=ApiReference(),
    docs_url="/docs",
    throttle=api_throttles(),
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
api.add_router("/exchange", exchange_router)
api.add_router("/biometrics", biometrics_router)

add_health(api)
