from django.urls import path

from aips.etp.dataroom import views

app_name = "etp_dataroom"

urlpatterns = [
    path("lots/<int:pk>/dataroom/", views.room, name="room"),
    path("lots/<int:pk>/dataroom/nda/", views.nda_accept, name="nda_accept"),
    path("lots/<int:pk>/dataroom/files/<int:file_id>/", views.file_download, name="file"),
]
