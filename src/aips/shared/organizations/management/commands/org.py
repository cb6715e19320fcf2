from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.core.actors import cli_actor
from aips.core.errors import ValidationFailed
from aips.shared.organizations.models import OrganizationKind
from aips.shared.organizations.services import organization_create


class Command(BaseCommand):
    help = "Organization profiles from the command line (acts as a center administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register an organization (R67.5)")
        create.add_argument("--name", required=True)
        create.add_argument("--bin", required=True)
        create.add_argument("--email", required=True)
        create.add_argument("--kind", required=True, choices=OrganizationKind.values)
        create.add_argument("--name-kk", default="")
        create.add_argument("--name-ru", default="")
        create.add_argument("--name-en", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            org = organization_create(
                actor=cli_actor(),
                name=options["name"],
                bin=options["bin"],
                email=options["email"],
                kind=options["kind"],
                name_kk=options["name_kk"],
                name_ru=options["name_ru"],
                name_en=options["name_en"],
            )
        except ValidationFailed as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(problems) from exc
        self.stdout.write(f"created organization {org.pk}: {org.name} (BIN {org.bin})")
