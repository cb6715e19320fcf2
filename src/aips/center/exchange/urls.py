from django.urls import path

from aips.center.exchange import views

app_name = "exchange"

_COLLECTION = "taxii2/aips/collections/<str:collection_id>/"

urlpatterns = [
    path("taxii2/", views.taxii_discovery, name="taxii_discovery"),
    path("taxii2/aips/", views.taxii_root, name="taxii_root"),
    path("taxii2/aips/collections/", views.taxii_collections, name="taxii_collections"),
    path(_COLLECTION, views.taxii_collection, name="taxii_collection"),
    path(_COLLECTION + "objects/", views.taxii_objects, name="taxii_objects"),
    path(_COLLECTION + "manifest/", views.taxii_manifest, name="taxii_manifest"),
    path(_COLLECTION + "objects/<str:object_id>/", views.taxii_object, name="taxii_object"),
    path(
        _COLLECTION + "objects/<str:object_id>/versions/",
        views.taxii_object_versions,
        name="taxii_object_versions",
    ),
    path("misp-feed/manifest.json", views.misp_manifest, name="misp_manifest"),
    path("misp-feed/hashes.csv", views.misp_hashes, name="misp_hashes"),
    path("misp-feed/<uuid:event_uuid>.json", views.misp_event, name="misp_event"),
    path("exports/blocklist/<str:name>.txt", views.blocklist, name="blocklist"),
    path("taxii2/aips/status/<str:status_id>/", views.taxii_status, name="taxii_status"),
    path("exchange/import/", views.import_file, name="import"),
    path("exchange/partners/", views.partner_list, name="partner_list"),
    path("exchange/partners/new/", views.partner_create, name="partner_create"),
    path("exchange/partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("exchange/partners/<int:pk>/edit/", views.partner_update, name="partner_update"),
    path("exchange/partners/<int:pk>/poll/", views.partner_poll, name="partner_poll"),
]
