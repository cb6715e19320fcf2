from django.urls import path

from aips.center.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("export.csv", views.incident_list_csv, name="list_csv"),
    path("new/", views.incident_create, name="create"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/edit/", views.incident_update, name="update"),
    path("<int:pk>/do/<str:name>/", views.incident_transition, name="transition"),
    path("<int:pk>/comments/", views.incident_comment, name="comment"),
    path("<int:pk>/attachments/", views.incident_attachment_upload, name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.incident_attachment_download,
        name="attachment_download",
    ),
    path(
        "<int:pk>/signatures/<int:sid>/bundle.zip",
        views.incident_signature_bundle,
        name="signature_bundle",
    ),
]
