"""Reads of the portal. No tables of its own: the catalogue's lots come from the lots app through
its public projection (published and withdrawn lots only, no personal data of debtors)."""

from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aips.core import listing
from aips.etp.lots.selectors import CatalogueFilters, catalogue, public_card
from aips.etp.permissions import EtpRole

# What each role does on the platform, shown in the workspace until the work lists exist.
_DUTIES: dict[str, str | Promise] = {
    EtpRole.OPERATOR_ADMIN: _(
        "You manage the accounts of the operator's staff, sellers and participants, the "
        "working-day calendar and the audit journal."
    ),
    EtpRole.OPERATOR_VERIFIER: _(
        "You verify the lots that sellers have approved: accept them for publication or "
        "return them with a reason."
    ),
    EtpRole.OPERATOR_ADMISSION: _(
        "You confirm participants' guarantee deposits and admit participants to auctions, or "
        "refuse them with a reason."
    ),
    EtpRole.OPERATOR_AUCTIONEER: _(
        "You run the auctions on their schedule and publish their results and protocols."
    ),
    EtpRole.OPERATOR_COMPLAINTS: _(
        "You answer participants' complaints and the public questions about lots before their "
        "deadlines."
    ),
    EtpRole.OPERATOR_AUDITOR: _(
        "You read everything on the platform, the audit journal included, and change nothing."
    ),
    EtpRole.SELLER_MAKER: _(
        "You prepare your organization's lots and send them to your authorised signatory for "
        "approval."
    ),
    EtpRole.SELLER_SIGNATORY: _(
        "You approve your organization's lots before the operator verifies and publishes them."
    ),
    EtpRole.PARTICIPANT: _(
        "You apply to auctions, pay the guarantee deposits and bid; your applications are seen "
        "by nobody but you and the operator."
    ),
}


def role_duties(role: str) -> str:
    return str(_DUTIES.get(role, ""))


# The catalogue's list: keyset pages on (published, id) or (start price, id) through the
# platform's listing module; the filters (asset type, region, price, seller, status, dates,
# text) are the lots app's `CatalogueFilters`, shared with the public API.
CATALOGUE = listing.ListSpec(
    name="etp_catalogue",
    url_name="etp_portal:catalogue",
    columns=(
        # The catalogue holds published and withdrawn lots only, and both carry the date.
        listing.Column("published", "published_at", _("Published"), never_empty=True),
        listing.Column("price", "start_price", _("Start price"), never_empty=True),
    ),
    default_sort="-published",
    # The text search is the filters' own (title and description), not the listing's.
    search_fields=(),
)


def catalogue_page(query: QueryDict) -> tuple[listing.ListPage, CatalogueFilters]:
    filters = CatalogueFilters.from_query(query)
    params = listing.parse(CATALOGUE, query)
    found = listing.page(CATALOGUE, catalogue(filters), params)
    found.rows = [
        {**public_card(lot), "url": reverse("etp_lots:public_detail", args=[lot.pk])}
        for lot in found.rows
    ]
    return found, filters
