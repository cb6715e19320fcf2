"""The auctions' rows of the ETP's authorization matrix (R57.5): an auction's public state and
live page are everyone's (anonymised); only participants hold `auction:bid` (the others 403,
anonymous 401 or the sign-in), and an empty body is refused (422, or the page's redirect with a
message) before the service decides who is admitted; scheduling is the auctioneer's alone
(`auction:run`, no persona of the matrix holds it: 403)."""

from aips.etp.tests.matrix import PARTICIPANTS, Row, only, statuses

ROWS: list[Row] = [
    Row(
        "api:auctions_get",
        "GET",
        statuses(200),
        kwargs=lambda o: {"auction_id": o["auction"].pk},
        api=True,
    ),
    Row(
        "api:auctions_bid",
        "POST",
        only(422, PARTICIPANTS, anon=401),
        kwargs=lambda o: {"auction_id": o["auction"].pk},
        data={},
        api=True,
    ),
    Row(
        "api:auctions_schedule",
        "POST",
        statuses(403, anon=401),
        kwargs=lambda o: {"lot_id": o["auction"].procedure.lot_id},
        data={},
        api=True,
    ),
    Row("etp_auctions:live", "GET", statuses(200), kwargs=lambda o: {"pk": o["auction"].pk}),
    Row(
        "etp_auctions:bid",
        "POST",
        only(302, PARTICIPANTS),
        kwargs=lambda o: {"pk": o["auction"].pk},
        data={},
    ),
    Row(
        "etp_auctions:schedule",
        "GET",
        statuses(403, anon=302),
        kwargs=lambda o: {"pk": o["auction"].procedure.lot_id},
    ),
]
