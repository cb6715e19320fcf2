"""The ETP's auctions: one attempt of a lot's procedure at a time (`Auction`), its bids as an
append-only hash chain (`Bid`), the rule sets as pure functions of the state and the server's
clock (`rules.py`), the worker's tick that opens and closes them and schedules repeats, and
`etp auctions verify`. See docs/domains/etp.md, "Auctions"."""
