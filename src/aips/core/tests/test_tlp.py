"""One TLP list for every item: the model choices and the API type cannot drift apart."""

from typing import get_args

from aips.center.alerts.models import Alert
from aips.center.incidents.models import IncidentCard
from aips.center.inquiries.models import Inquiry
from aips.core.tlp import AMBER_OR_STRICTER, RESTRICTED_TLP, Tlp, TlpLevel


def test_r57_17_api_levels_are_the_model_levels() -> None:
    assert list(get_args(TlpLevel)) == list(Tlp.values)


def test_r57_17_every_item_uses_the_one_tlp_list() -> None:
    for model in (IncidentCard, Alert, Inquiry):
        assert model._meta.get_field("tlp").choices == Tlp.choices


def test_r57_17_restricted_levels_are_the_strictest() -> None:
    assert {Tlp.RED, Tlp.AMBER_STRICT} == RESTRICTED_TLP
    assert RESTRICTED_TLP < AMBER_OR_STRICTER
    assert Tlp.GREEN not in AMBER_OR_STRICTER
