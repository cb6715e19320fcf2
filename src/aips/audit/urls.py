from django.urls import path

from aips.audit import views

urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("export/", views.audit_export, name="audit_export"),
    path("<int:seq>/", views.audit_detail, name="audit_detail"),
]
