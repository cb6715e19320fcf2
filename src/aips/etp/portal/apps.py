from django.apps import AppConfig


class EtpPortalConfig(AppConfig):
    name = "aips.etp.portal"
    # ETP labels carry the product's prefix: a label is a migration identity and a table prefix,
    # and the two products' apps share one namespace of labels.
    label = "etp_portal"
