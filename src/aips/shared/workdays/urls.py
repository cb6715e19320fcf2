from django.urls import path

from aips.shared.workdays import views

app_name = "workdays"

urlpatterns = [
    path("", views.calendar_view, name="calendar"),
    path("days/", views.day_set, name="day_set"),
    path("days/<int:pk>/remove/", views.day_remove, name="day_remove"),
]
