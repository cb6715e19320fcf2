from django.urls import path

from aips.center.integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.module_list, name="list"),
    path("new/", views.module_create, name="create"),
    path("ca/", views.ca_certificate, name="ca"),
    path("<int:pk>/", views.module_detail, name="detail"),
    path("<int:pk>/edit/", views.module_update, name="update"),
    path("<int:pk>/token/", views.module_token, name="token"),
    path("<int:pk>/certificate/", views.module_certificate, name="certificate"),
    path("<int:pk>/revoke/", views.module_revoke, name="revoke"),
]
