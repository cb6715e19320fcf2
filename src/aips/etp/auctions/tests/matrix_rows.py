"""The auctions' rows of the ETP's authorization matrix (R57.5): an auction's public state is
everyone's (anonymised); only participants hold `auction:bid` (the others 403, anonymous 401),
and an empty body is refused (422) before the service decides who is admitted."""

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
]
