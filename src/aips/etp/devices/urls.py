from django.urls import path

from aips.etp.devices import views

app_name = "etp_devices"

urlpatterns = [
    path("devices/", views.device_list, name="list"),
    path("devices/<int:pk>/revoke/", views.device_revoke, name="revoke"),
]
