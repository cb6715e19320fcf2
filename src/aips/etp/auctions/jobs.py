"""The auctions' periodic work, registered with the worker (aips.core.jobs) by the AppConfig.
The tick is due every second; the worker looks at its table every `--interval` seconds, so run
the ETP's worker with `--interval 1` where auctions run. A late tick never lets a late bid in:
bids are judged by the server's clock against the auction's end, not by its state."""

from datetime import timedelta

from aips.core.jobs import register_job


def tick() -> str:
    from aips.etp.auctions.services import auction_tick

    return auction_tick()


def contracts_tick() -> str:
    from aips.etp.auctions.contracts import contracts_tick as run

    return run()


def register_jobs() -> None:
    register_job("etp.auctions.tick", every=timedelta(seconds=1), run=tick)
    # Contract deadlines and their reminders (auctions/contracts.py).
    register_job("etp.auctions.contracts", every=timedelta(minutes=1), run=contracts_tick)
