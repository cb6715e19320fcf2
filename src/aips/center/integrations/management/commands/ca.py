from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.center.integrations import ca, selectors, services
from aips.center.integrations.management.commands._common import command_error
from aips.core.actors import cli_actor
from aips.core.errors import AppError


class Command(BaseCommand):
    help = (
        "The center's certification authority for integration modules' client certificates "
        "(R57.28.3). Its key stays in AIPS_DATA_DIR/ca/, never in the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="create the CA once (refuses to replace an existing one)")
        sub.add_parser("show", help="print the CA certificate (PEM) for nginx and agents")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "init":
            try:
                services.ca_init(actor=cli_actor())
            except AppError as exc:
                raise command_error(exc) from exc
            info = selectors.ca_info()
            assert info is not None  # noqa: S101 - just created
            self.stdout.write(
                f"created the integration CA in {ca.ca_dir()} (key ca.key, mode 0600; "
                f"certificate ca.pem), SHA-256 {info.fingerprint}, valid until "
                f"{info.not_after:%Y-%m-%d}. Back up ca.key with the data directory."
            )
            return
        pem = services.ca_certificate_pem()
        if pem is None:
            raise CommandError("the CA is not set up yet: run `aips ca init`")
        self.stdout.write(pem, ending="")
