"""Traffic Light Protocol 2.0: the confidentiality label every shared item carries (incident
cards, alerts, requests, and later the ETP's lots). Part of the platform, so a product never
imports another product to label its data."""

from typing import Literal

from django.db import models


class Tlp(models.TextChoices):
    """Traffic Light Protocol 2.0."""

    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


# Labels whose items are shown to named people only (the restricted-view rules of each domain).
RESTRICTED_TLP = frozenset({Tlp.RED, Tlp.AMBER_STRICT})
# TLP:AMBER or stricter: an alert's receivers are chosen by hand, a request's every view is audited.
AMBER_OR_STRICTER = frozenset({Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED})

# The same levels as an API type (django-ninja documents a Literal as an enum).
TlpLevel = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
