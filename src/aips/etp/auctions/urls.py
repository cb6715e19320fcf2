from django.urls import path

from aips.etp.auctions import views

app_name = "etp_auctions"

urlpatterns = [
    path("auctions/<int:pk>/", views.auction_live, name="live"),
    path("auctions/<int:pk>/bid/", views.auction_bid, name="bid"),
    path("manage/lots/<int:pk>/auction/", views.auction_schedule, name="schedule"),
]
