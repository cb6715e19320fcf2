from django.urls import path

from aips.organizations import views

urlpatterns = [
    path("", views.organization_list, name="organization_list"),
    path("new/", views.organization_create, name="organization_create"),
    path("<int:pk>/", views.organization_detail, name="organization_detail"),
    path("<int:pk>/edit/", views.organization_update, name="organization_update"),
]
