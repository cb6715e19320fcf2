"""The ETP's pages (settings_etp.ROOT_URLCONF): its own apps and the platform's, never AIPS's."""

from django.urls import include, path

from aips.api_etp import api

urlpatterns = [
    path("", include("aips.etp.portal.urls")),
    path("", include("aips.shared.accounts.urls")),
    path("mfa/", include("aips.shared.mfa.urls")),
    path("biometrics/", include("aips.shared.biometrics.urls")),
    path("audit/", include("aips.shared.audit.urls")),
    path("notifications/", include("aips.shared.notifications.urls")),
    path("api/v1/", api.urls),
]

handler403 = "aips.core.views.handler403"
handler404 = "aips.core.views.handler404"
handler500 = "aips.core.views.handler500"
