from django.urls import path

from aips.etp.applications import views

app_name = "etp_applications"

urlpatterns = [
    path("applications/", views.application_list, name="list"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/act/<slug:name>/", views.application_act, name="act"),
    path("lots/<int:pk>/apply/", views.application_apply, name="apply"),
    path("manage/lots/<int:pk>/procedure/", views.procedure_announce, name="announce"),
    path("manage/deposits/statement/", views.deposit_statement, name="statement"),
]
