from django.urls import path

from aips.etp.participants import views

app_name = "etp_participants"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/biometrics/", views.register_biometrics, name="register_biometrics"),
    path("register/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path(
        "participants/email/confirm-again/",
        views.email_confirm_resend,
        name="email_confirm_resend",
    ),
    path("participants/profile/", views.profile, name="profile"),
    path("participants/<int:pk>/", views.detail, name="detail"),
]
