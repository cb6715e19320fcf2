from django.urls import include, path

from aips.api import api

urlpatterns = [
    path("", include("aips.core.urls")),
    path("", include("aips.accounts.urls")),
    path("organizations/", include("aips.organizations.urls")),
    path("incidents/", include("aips.incidents.urls")),
    path("alerts/", include("aips.alerts.urls")),
    path("requests/", include("aips.inquiries.urls")),
    path("signals/", include("aips.signals.urls")),
    path("integrations/", include("aips.integrations.urls")),
    path("mfa/", include("aips.mfa.urls")),
    path("audit/", include("aips.audit.urls")),
    path("calendar/", include("aips.workdays.urls")),
    path("notifications/", include("aips.notifications.urls")),
    path("api/v1/", api.urls),
]

handler403 = "aips.core.views.handler403"
handler404 = "aips.core.views.handler404"
handler500 = "aips.core.views.handler500"
