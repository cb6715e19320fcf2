from django.urls import path

from aips.etp.participants import views

app_name = "etp_participants"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/biometrics/", views.register_biometrics, name="register_biometrics"),
    path("participants/profile/", views.profile, name="profile"),
    path("participants/<int:pk>/", views.detail, name="detail"),
]
