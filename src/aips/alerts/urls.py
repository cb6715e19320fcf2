from django.urls import path

from aips.alerts import views

urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("new/", views.alert_create, name="alert_create"),
    path("import/", views.alert_import, name="alert_import"),
    path("compliance/", views.alert_compliance, name="alert_compliance"),
    path("threat-types/", views.threat_types, name="alert_threat_types"),
    path("compliance.csv", views.alert_compliance_csv, name="alert_compliance_csv"),
    path("<int:pk>/", views.alert_detail, name="alert_detail"),
    path("<int:pk>/edit/", views.alert_update, name="alert_update"),
    path("<int:pk>/do/<str:name>/", views.alert_transition, name="alert_transition"),
    path(
        "<int:pk>/recipients/<int:rid>/accept/",
        views.recipient_accept,
        name="alert_recipient_accept",
    ),
    path(
        "<int:pk>/recipients/<int:rid>/decline/",
        views.recipient_decline,
        name="alert_recipient_decline",
    ),
    path(
        "<int:pk>/recipients/<int:rid>/processed/",
        views.recipient_processed,
        name="alert_recipient_processed",
    ),
]
