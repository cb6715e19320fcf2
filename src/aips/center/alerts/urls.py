from django.urls import path

from aips.center.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("export.csv", views.alert_list_csv, name="list_csv"),
    path("new/", views.alert_create, name="create"),
    path("import/", views.alert_import, name="import"),
    path("import/batch/", views.csaf_batch_start, name="csaf_batch_start"),
    path("batches/", views.csaf_batch_list, name="csaf_batches"),
    path("batches/<int:pk>/", views.csaf_batch_detail, name="csaf_batch"),
    path("compliance/", views.alert_compliance, name="compliance"),
    path("threat-types/", views.threat_types, name="threat_types"),
    path("compliance.csv", views.alert_compliance_csv, name="compliance_csv"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/edit/", views.alert_update, name="update"),
    path("<int:pk>/do/<str:name>/", views.alert_transition, name="transition"),
    path(
        "<int:pk>/recipients/<int:rid>/accept/",
        views.recipient_accept,
        name="recipient_accept",
    ),
    path(
        "<int:pk>/recipients/<int:rid>/decline/",
        views.recipient_decline,
        name="recipient_decline",
    ),
    path(
        "<int:pk>/recipients/<int:rid>/processed/",
        views.recipient_processed,
        name="recipient_processed",
    ),
    path(
        "<int:pk>/signatures/<int:sid>/bundle.zip",
        views.alert_signature_bundle,
        name="signature_bundle",
    ),
]
