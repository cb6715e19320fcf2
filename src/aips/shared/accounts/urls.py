from django.urls import path

from aips.shared.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/enroll/", views.login_enroll, name="login_enroll"),
    path("logout/", views.logout_view, name="logout"),
    path("reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("profile/", views.profile, name="profile"),
    path("profile/security/", views.security, name="security"),
    path("profile/security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "profile/security/recovery-codes/new/",
        views.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("profile/security/totp/", views.totp_add, name="totp_add"),
    path("profile/security/eds/", views.eds_bind, name="eds_bind"),
    path("profile/security/<str:kind>/<int:pk>/remove/", views.factor_remove, name="factor_remove"),
    path("profile/sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/tokens/", views.token_list, name="token_list"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("profile/filters/", views.saved_filter_create, name="saved_filter_create"),
    path(
        "profile/filters/<int:pk>/delete/",
        views.saved_filter_delete,
        name="saved_filter_delete",
    ),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_update, name="user_update"),
    path("users/<int:pk>/reinvite/", views.user_reinvite, name="user_reinvite"),
    path("users/<int:pk>/block/", views.user_block, name="user_block"),
    path("users/<int:pk>/unblock/", views.user_unblock, name="user_unblock"),
    path("users/<int:pk>/reset-second-factors/", views.user_reset_mfa, name="user_reset_mfa"),
    path("users/<int:pk>/unbind-iin/", views.user_iin_unbind, name="user_iin_unbind"),
    path("user-requests/", views.user_request_list, name="user_request_list"),
    path("user-requests/new/", views.user_request_create, name="user_request_create"),
    path("user-requests/<int:pk>/", views.user_request_detail, name="user_request_detail"),
    path("user-requests/<int:pk>/decide/", views.user_request_decide, name="user_request_decide"),
]
