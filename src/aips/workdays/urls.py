from django.urls import path

from aips.workdays import views

urlpatterns = [
    path("", views.calendar_view, name="workdays_calendar"),
    path("days/", views.day_set, name="workdays_day_set"),
    path("days/<int:pk>/remove/", views.day_remove, name="workdays_day_remove"),
]
