from django.urls import path

from aips.center.signals import views

app_name = "signals"

urlpatterns = [
    path("", views.signal_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("indicator/", views.indicator, name="indicator"),
    path("findings/", views.finding_list, name="findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("findings/<int:pk>/promote/", views.finding_promote, name="finding_promote"),
    path("findings/<int:pk>/link/", views.finding_link, name="finding_link"),
    path("findings/<int:pk>/dismiss/", views.finding_dismiss, name="finding_dismiss"),
    path("<int:seq>/", views.signal_detail, name="detail"),
]
