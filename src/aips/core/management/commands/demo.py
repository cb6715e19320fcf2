from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Demo data: `aips demo load` creates it once and prints the demo sign-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])

    def handle(self, *args: Any, **options: Any) -> None:
        from aips.demo import ORGS, USERS, load_demo

        load_demo()
        names = {o.key: o.name_en for o in ORGS}
        self.stdout.write("Demo sign-ins (demo data only; never use these passwords elsewhere):")
        for person in USERS:
            self.stdout.write(
                f"  {person.role:<16} {names[person.org]:<52} {person.email:<34} {person.password}"
            )
