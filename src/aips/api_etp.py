"""The ETP's REST API under /api/v1/ (its own OpenAPI at /api/v1/openapi.json, committed as
docs/openapi-etp.json): the ETP's routers and the platform's, never AIPS's."""

from typing import Any

from ninja import NinjaAPI

from aips.core import api_errors, openapi
from aips.core.api_parser import AipsParser, refuse_unsafe_path_text
from aips.core.api_site import ApiReference, add_health, api_throttles
from aips.etp.applications.api import router as applications_router
from aips.etp.auctions.api import router as auctions_router
from aips.etp.auctions.api_results import router as auction_results_router
from aips.etp.dataroom.api import router as dataroom_router
from aips.etp.devices.api import mobile_router
from aips.etp.devices.api import router as devices_router
from aips.etp.lots.api import router as lots_router
from aips.etp.portal.api import router as portal_router
from aips.etp.questions.api import router as questions_router
from aips.shared.accounts.api_auth import api_auth
from aips.shared.biometrics.api import router as biometrics_router


class EtpAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        # Ninja documents success only; every operation's error responses are added here.
        return openapi.document_errors(super().get_openapi_schema(*args, **kwargs))


api = EtpAPI(
    title="ETP API",
    version="1",
    description=(
        "The API of the ETP, the electronic trading platform for the assets of banks and "
        "microfinance organizations."
    ),
    urls_namespace="api",
    # Nobody unless the operation says who: an operation that declares nothing is denied.
    auth=api_auth(None),
    docs=ApiReference(),
    docs_url="/docs",
    throttle=api_throttles(),
    parser=AipsParser(),
)
api.add_decorator(refuse_unsafe_path_text)
api_errors.install(api)
api.add_router("", portal_router)
api.add_router("", lots_router)
api.add_router("", applications_router)
api.add_router("", auctions_router)
api.add_router("", auction_results_router)
api.add_router("", questions_router)
api.add_router("", dataroom_router)
api.add_router("", devices_router)
api.add_router("/mobile", mobile_router)
api.add_router("/biometrics", biometrics_router)

add_health(api)
