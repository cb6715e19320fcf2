"""The auctions' periodic work, registered with the worker (aips.core.jobs) by the AppConfig.
The tick is due every second and at the next auction's start or end (its `wake`, which
shortens the worker's `--interval` wait). A late tick never lets a late bid in:
bids are judged by the server's clock against the auction's end, not by its state. The
results of a close (protocol, contract offer, deposits, notices) are a job of their own, due
every second as well, so a close commits without waiting for them."""

from datetime import datetime, timedelta

from aips.core.jobs import register_job


def tick() -> str:
    from aips.etp.auctions.services import auction_tick

    return auction_tick()


def tick_wake() -> datetime | None:
    from aips.etp.auctions.selectors import next_timer

    return next_timer()


def results_tick() -> str:
    from aips.etp.auctions.results import results_tick as run

    return run()


def contracts_tick() -> str:
    from aips.etp.auctions.contracts import contracts_tick as run

    return run()


def register_jobs() -> None:
    # Both claim rows with SKIP LOCKED and commit per auction, so the worker runs them outside its
    # one transaction (concurrent): a close is public the moment it commits.
    # Woken at the next start or end (tick_wake), so a close follows its end by milliseconds,
    # not by up to a second plus the worker's interval.
    register_job(
        "etp.auctions.tick",
        every=timedelta(seconds=1),
        run=tick,
        concurrent=True,
        wake=tick_wake,
    )
    # The results of the auctions the tick closed with a winner (results.results_tick).
    register_job(
        "etp.auctions.results", every=timedelta(seconds=1), run=results_tick, concurrent=True
    )
    # Contract deadlines and their reminders (auctions/contracts.py).
    register_job("etp.auctions.contracts", every=timedelta(minutes=1), run=contracts_tick)
