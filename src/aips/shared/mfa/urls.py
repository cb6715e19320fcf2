from django.urls import path

from aips.shared.mfa import views

app_name = "mfa"

urlpatterns = [
    path(
        "webauthn/authenticate/options/",
        views.authenticate_options,
        name="webauthn_authenticate_options",
    ),
    path("webauthn/register/options/", views.register_options, name="webauthn_register_options"),
    path("webauthn/register/verify/", views.register_verify, name="webauthn_register_verify"),
]
