from django.urls import path

from aips.etp.auctions import views_results as views

app_name = "etp_auction_results"

urlpatterns = [
    path("auctions/<int:pk>/results/", views.results, name="results"),
    path("auctions/<int:pk>/protocol/sign/", views.protocol_sign, name="protocol_sign"),
    path("auctions/<int:pk>/protocol.<slug:kind>", views.public_protocol, name="public_protocol"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/act/<slug:name>/", views.contract_act, name="contract_act"),
    path("contracts/<int:pk>/file/<slug:kind>/", views.contract_file, name="contract_file"),
]
