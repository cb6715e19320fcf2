"""The ETP's pages (settings_etp.ROOT_URLCONF): its own apps and the platform's, never AIPS's."""

from django.urls import include, path

from aips.api_etp import api
from aips.shared.accounts import urls as accounts_urls

# The platform's account pages without AIPS's new-user requests (R67.6: an organization asks the
# center for a colleague's account): on the ETP the operator's administrator creates accounts.
accounts_patterns = [
    p for p in accounts_urls.urlpatterns if not str(p.name).startswith("user_request")
]

urlpatterns = [
    path("", include("aips.etp.portal.urls")),
    path("", include("aips.etp.lots.urls")),
    path("", include("aips.etp.participants.urls")),
    path("", include("aips.etp.applications.urls")),
    path("", include("aips.etp.auctions.urls")),
    path("", include("aips.etp.auctions.urls_results")),
    path("", include("aips.etp.questions.urls")),
    path("", include("aips.etp.dataroom.urls")),
    path("", include("aips.etp.devices.urls")),
    path("", include((accounts_patterns, accounts_urls.app_name))),
    path("mfa/", include("aips.shared.mfa.urls")),
    path("biometrics/", include("aips.shared.biometrics.urls")),
    path("audit/", include("aips.shared.audit.urls")),
    path("notifications/", include("aips.shared.notifications.urls")),
    path("", include("aips.shared.observability.urls")),
    path("api/v1/", api.urls),
]

handler403 = "aips.core.views.handler403"
handler404 = "aips.core.views.handler404"
handler500 = "aips.core.views.handler500"
