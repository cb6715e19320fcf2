"""`etp auctions verify`: recompute every auction's bid chain (R57.17)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.etp.auctions.chain import verify_all


class Command(BaseCommand):
    help = "The auctions' bid chains (R57.17): verify."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute every auction's bid chain")

    def handle(self, *args: Any, **options: Any) -> None:
        auctions = bids = 0
        for auction, broken in verify_all():
            if broken is not None:
                raise CommandError(f"broken: {broken}")
            auctions += 1
            bids += auction.bid_count
        self.stdout.write(f"ok: {auctions} auctions, {bids} bids")
