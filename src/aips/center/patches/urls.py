from django.urls import path

from aips.center.patches import views

app_name = "patches"

urlpatterns = [
    path("", views.report, name="report"),
]
