from django.urls import path

from aips.etp.questions import views

app_name = "etp_questions"

urlpatterns = [
    path("lots/<int:pk>/questions/", views.ask, name="ask"),
    path("manage/questions/", views.question_list, name="list"),
    path("manage/questions/<int:pk>/answer/", views.answer, name="answer"),
    path("complaints/", views.public_complaints, name="public_complaints"),
    path("manage/complaints/", views.complaint_list, name="complaint_list"),
    path("manage/complaints/new/", views.complaint_create, name="complaint_create"),
    path("manage/complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("manage/complaints/<int:pk>/answer/", views.complaint_answer, name="complaint_answer"),
    path(
        "manage/complaints/<int:pk>/files/<int:file_id>/",
        views.complaint_file_download,
        name="complaint_file",
    ),
]
