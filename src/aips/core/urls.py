from django.urls import path

from aips.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_page, name="search"),
    path("indicators/", views.indicator_page, name="indicator"),
]
