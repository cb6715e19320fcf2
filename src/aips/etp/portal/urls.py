from django.urls import path

from aips.etp.portal import views

app_name = "etp_portal"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("workspace/", views.workspace, name="workspace"),
]
