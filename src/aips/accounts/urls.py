from django.urls import path

from aips.accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_list, name="token_list"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_update, name="user_update"),
    path("users/<int:pk>/reinvite/", views.user_reinvite, name="user_reinvite"),
    path("user-requests/", views.user_request_list, name="user_request_list"),
    path("user-requests/new/", views.user_request_create, name="user_request_create"),
    path("user-requests/<int:pk>/", views.user_request_detail, name="user_request_detail"),
    path("user-requests/<int:pk>/decide/", views.user_request_decide, name="user_request_decide"),
]
