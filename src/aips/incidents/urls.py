from django.urls import path

from aips.incidents import views

urlpatterns = [
    path("", views.incident_list, name="incident_list"),
    path("new/", views.incident_create, name="incident_create"),
    path("<int:pk>/", views.incident_detail, name="incident_detail"),
    path("<int:pk>/edit/", views.incident_update, name="incident_update"),
    path("<int:pk>/do/<str:name>/", views.incident_transition, name="incident_transition"),
    path("<int:pk>/comments/", views.incident_comment, name="incident_comment"),
    path(
        "<int:pk>/attachments/", views.incident_attachment_upload, name="incident_attachment_upload"
    ),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.incident_attachment_download,
        name="incident_attachment_download",
    ),
]
