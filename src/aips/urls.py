from django.urls import include, path

from aips.api import api

urlpatterns = [
    path("", include("aips.core.urls")),
    path("", include("aips.shared.accounts.urls")),
    path("organizations/", include("aips.shared.organizations.urls")),
    path("incidents/", include("aips.center.incidents.urls")),
    path("alerts/", include("aips.center.alerts.urls")),
    path("requests/", include("aips.center.inquiries.urls")),
    path("signals/", include("aips.center.signals.urls")),
    path("integrations/", include("aips.center.integrations.urls")),
    path("", include("aips.center.exchange.urls")),
    path("mfa/", include("aips.shared.mfa.urls")),
    path("biometrics/", include("aips.shared.biometrics.urls")),
    path("audit/", include("aips.shared.audit.urls")),
    path("security-updates/", include("aips.center.patches.urls")),
    path("calendar/", include("aips.shared.workdays.urls")),
    path("notifications/", include("aips.shared.notifications.urls")),
    path("", include("aips.shared.observability.urls")),
    path("api/v1/", api.urls),
]

handler403 = "aips.core.views.handler403"
handler404 = "aips.core.views.handler404"
handler500 = "aips.core.views.handler500"
