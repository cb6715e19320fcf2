from django.urls import path

from aips.shared.biometrics import views

app_name = "biometrics"

urlpatterns = [
    path("sign-in/", views.sign_in_start, name="sign_in_start"),
    path("password/", views.password_start, name="password_start"),
    path("bind/", views.bind, name="bind"),
    path("invite/<str:token>/", views.invite, name="invite"),
    path("sessions/<uuid:public_id>/", views.session_page, name="session"),
    path("fake/<str:provider_session_id>/", views.fake_client, name="fake"),
]
