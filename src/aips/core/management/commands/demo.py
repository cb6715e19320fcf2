from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Demo data: `aips demo load` (or `etp demo load`) creates the product's demo data once "
        "(AIPS: organizations, people, signals and a month of their cards, alerts and requests) "
        "and prints the demo sign-ins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument(
            "--without-month",
            action="store_true",
            help="AIPS: only the organizations, people and signals: no cards, alerts or requests.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The product's loader by name (settings.AIPS_DEMO), so the core imports no product.
        load = import_string(settings.AIPS_DEMO)
        load(self.stdout, without_month=options["without_month"])
