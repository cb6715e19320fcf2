from django.urls import path

from aips.center.inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("", views.inquiry_list, name="list"),
    path("export.csv", views.inquiry_list_csv, name="list_csv"),
    path("new/", views.inquiry_create, name="create"),
    path("deadlines/", views.inquiry_deadlines, name="deadlines"),
    path("<int:pk>/", views.inquiry_detail, name="detail"),
    path("<int:pk>/edit/", views.inquiry_update, name="update"),
    path("<int:pk>/do/<str:name>/", views.inquiry_transition, name="transition"),
    path("<int:pk>/comments/", views.inquiry_comment, name="comment"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "<int:pk>/threads/<int:tid>/do/<str:name>/",
        views.thread_transition,
        name="thread_transition",
    ),
    path("<int:pk>/threads/<int:tid>/answer/", views.thread_answer, name="thread_answer"),
    path("<int:pk>/threads/<int:tid>/comments/", views.thread_comment, name="thread_comment"),
    path(
        "<int:pk>/threads/<int:tid>/attachments/",
        views.thread_attachment_upload,
        name="thread_attachment_upload",
    ),
    path(
        "<int:pk>/signatures/<int:sid>/bundle.zip",
        views.inquiry_signature_bundle,
        name="signature_bundle",
    ),
]
