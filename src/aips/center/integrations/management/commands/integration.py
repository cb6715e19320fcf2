import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aips.center.integrations.management.commands._common import command_error
from aips.center.integrations.models import ModuleKind
from aips.center.integrations.selectors import HEALTH_CHOICES, get_module_for, module_health
from aips.center.integrations.services import (
    cert_issue,
    module_register,
    module_revoke,
    token_issue,
)
from aips.core.actors import Actor, cli_actor
from aips.core.errors import AppError
from aips.shared.organizations.selectors import get_organization_for, organization_list


def _write(path: str, text: str, *, secret: bool) -> None:
    # A private key file is created readable by its owner only, whatever the umask.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    if secret:
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class Command(BaseCommand):
    help = (
        "Integration modules from the command line (R67.7; acts as a center administrator). "
        "`register` prints only the new module's id and `token` only the raw token, for scripts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="register a module; prints its id")
        register.add_argument("--org-bin", required=True)
        register.add_argument("--name", required=True)
        register.add_argument("--kind", default=ModuleKind.AGENT, choices=ModuleKind.values)
        register.add_argument("--description", default="")
        token = sub.add_parser("token", help="issue or rotate the agent token; prints only it")
        token.add_argument("module_id", type=int)
        cert = sub.add_parser("cert", help="issue a client certificate from the center's CA")
        cert.add_argument("module_id", type=int)
        cert.add_argument("--csr", help="PEM CSR file; without it a key pair is generated")
        cert.add_argument("--cert-out", help="write the certificate here instead of stdout")
        cert.add_argument("--key-out", help="write a generated private key here (mode 0600)")
        revoke = sub.add_parser("revoke", help="refuse the module's token and certificate")
        revoke.add_argument("module_id", type=int)
        revoke.add_argument("--reason", default="")
        listing = sub.add_parser("list", help="modules with their health, tab-separated")
        listing.add_argument("--org-bin")
        listing.add_argument("--health", choices=[value for value, _label in HEALTH_CHOICES])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
        except AppError as exc:
            raise command_error(exc) from exc

    def _module(self, actor: Actor, module_id: int) -> Any:
        from django.http import Http404

        try:
            return get_module_for(actor, module_id)
        except Http404:
            raise CommandError(f"no integration module {module_id}") from None

    def _organization_id(self, actor: Actor, bin_: str) -> int:
        organization = organization_list(actor=actor).filter(bin=bin_.strip()).first()
        if organization is None:
            raise CommandError(f"no organization with BIN {bin_}")
        return organization.pk

    def _register(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        organization = get_organization_for(actor, self._organization_id(actor, options["org_bin"]))
        module = module_register(
            actor=actor,
            organization=organization,
            name=options["name"],
            kind=options["kind"],
            description=options["description"],
        )
        self.stdout.write(str(module.pk))

    def _token(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        _module, raw = token_issue(actor=actor, module=self._module(actor, options["module_id"]))
        self.stdout.write(raw)

    def _cert(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        csr = Path(options["csr"]).read_text() if options["csr"] else None
        if csr is None and not options["key_out"] and options["cert_out"]:
            raise CommandError("a generated key needs --key-out when --cert-out is given")
        issued = cert_issue(
            actor=actor, module=self._module(actor, options["module_id"]), csr_pem=csr
        )
        if options["key_out"] and issued.private_key_pem is not None:
            _write(options["key_out"], issued.private_key_pem, secret=True)
        if options["cert_out"]:
            _write(options["cert_out"], issued.certificate_pem, secret=False)
        else:
            self.stdout.write(issued.certificate_pem, ending="")
        if issued.private_key_pem is not None and not options["key_out"]:
            self.stdout.write(issued.private_key_pem, ending="")
        self.stderr.write(
            f"certificate serial {issued.serial}, SHA-256 {issued.fingerprint}, "
            f"valid until {issued.not_after:%Y-%m-%d}"
        )

    def _revoke(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        module = module_revoke(
            actor=actor,
            module=self._module(actor, options["module_id"]),
            reason=options["reason"],
        )
        self.stdout.write(f"revoked integration module {module.pk}: {module.name}")

    def _list(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        organization_id = (
            self._organization_id(actor, options["org_bin"]) if options["org_bin"] else None
        )
        for h in module_health(actor, organization_id=organization_id, state=options["health"]):
            m = h.module
            seen = m.last_seen_at.isoformat() if m.last_seen_at else "-"
            self.stdout.write(
                "\t".join(
                    [
                        str(m.pk),
                        m.organization.bin,
                        m.name,
                        h.state.value,
                        seen,
                        m.last_version or "-",
                        str(h.accepted_24h),
                        str(h.rejected_24h),
                    ]
                )
            )
