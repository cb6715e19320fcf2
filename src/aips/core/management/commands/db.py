"""`aips db grants --app-role aips`: give the application's PostgreSQL role its rights, and only
those (aips/core/db_grants.py). Run with the owner role's AIPS_DATABASE_URL, after every
`aips migrate`; the PostgreSQL test run applies the same statements to its own roles."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from aips.core import db_grants


class Command(BaseCommand):
    help = "The database roles (PostgreSQL): the application role's grants."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        grants = sub.add_parser(
            "grants",
            help="as the owner role, after `aips migrate`: grant the application role what it "
            "needs (tables, sequences, the journal's append-only rights, the partition "
            "functions) and nothing more; idempotent",
        )
        grants.add_argument(
            "--app-role",
            required=True,
            help="the role the web server and the workers connect as (docs/deployment.md: aips)",
        )
        grants.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="print the SQL instead of running it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["print_only"]:
                sql = db_grants.prepare(connection, app_role=options["app_role"])
                self.stdout.write(db_grants.script(sql), ending="")
                return
            sql = db_grants.apply(connection, app_role=options["app_role"])
        except db_grants.GrantError as exc:
            raise CommandError(str(exc)) from exc
        applied = sum(1 for line in sql if not line.startswith("--"))
        self.stdout.write(f"{applied} statements applied for role {options['app_role']}")
