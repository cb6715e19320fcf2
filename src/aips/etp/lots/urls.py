from django.urls import path

from aips.etp.lots import views

app_name = "etp_lots"

urlpatterns = [
    path("lots/<int:pk>/", views.public_detail, name="public_detail"),
    path("lots/<int:pk>/photos/<int:file_id>/", views.public_photo, name="public_photo"),
    path("manage/lots/", views.lot_list, name="list"),
    path("manage/lots/queue/", views.lot_queue, name="queue"),
    path("manage/lots/new/", views.lot_create, name="create"),
    path("manage/lots/<int:pk>/", views.lot_detail, name="detail"),
    path("manage/lots/<int:pk>/edit/", views.lot_update, name="update"),
    path("manage/lots/<int:pk>/tape/", views.lot_tape, name="tape"),
    path("manage/lots/<int:pk>/files/", views.lot_file, name="file"),
    path("manage/lots/<int:pk>/files/<int:file_id>/", views.file_download, name="file_download"),
    path("manage/lots/<int:pk>/act/<slug:name>/", views.lot_act, name="act"),
]
