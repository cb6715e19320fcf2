from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aips.demo import (
    ORGS,
    USERS,
    demo_totp_secret,
    load_demo,
    load_demo_month,
    load_demo_signals,
)


class Command(BaseCommand):
    help = (
        "Demo data: `aips demo load` creates it once (organizations, people, signals and a "
        "month of their cards, alerts and requests) and prints the demo sign-ins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument(
            "--without-month",
            action="store_true",
            help="Only the organizations, people and signals: no cards, alerts or requests.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        load_demo()
        load_demo_signals()
        if not options["without_month"]:
            made = load_demo_month()
            if made:
                self.stdout.write(f"Demo month: {made} cards, alerts and requests.")
        names = {o.key: o.name_en for o in ORGS}
        self.stdout.write(
            "Demo sign-ins (demo data only; never use these secrets elsewhere).\n"
            "Second factor: add the TOTP secret to an authenticator app, or run\n"
            "  oathtool --totp -b SECRET   (Debian package oathtool)\n"
        )
        self.stdout.write(
            f"  {'role':<16} {'organization':<28} {'e-mail':<34} {'password':<20} TOTP secret"
        )
        for person in USERS:
            self.stdout.write(
                f"  {person.role:<16} {names[person.org][:28]:<28} {person.email:<34} "
                f"{person.password:<20} {demo_totp_secret(person.email)}"
            )
