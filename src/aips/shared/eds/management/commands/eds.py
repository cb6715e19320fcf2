"""`aips eds verify FILE`: check a CMS signature for auditors and operators.

    aips eds verify signature.p7s [--data content.bin] [--trust DIR ...] [--at TIME]
    aips eds verify bundle.zip            (a bundle exported by AIPS, or its unzipped directory)
    aips eds export SIGNATURE_ID -o bundle.zip   (a signed approval's bundle, for auditors)
    aips eds status [--refresh]           (the trust store, its CRLs and the last CRL refresh)

FILE is a CMS (DER, PEM or base64; attached, or detached with --data) made by NCALayer, Kalkan,
OpenSSL or AIPS. It is checked against the certificates, CRLs and OCSP answers in each --trust
DIR (default: AIPS_EDS_TRUST_DIR) at TIME (default: the signing time in the signature). Prints
the signer, the chain and the revocation evidence; exits 0 only when every signer is valid, 1
when a signature is refused (the reason is printed), 2 when the input cannot be read.
"""

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from aips.core.actors import cli_actor
from aips.shared.eds.certificates import MalformedInput, parse_certificate
from aips.shared.eds.crl_refresh import crl_dir, crl_urls, read_status, refresh_crls
from aips.shared.eds.trust import (
    CERTIFICATE_SUFFIXES,
    CRL_SUFFIXES,
    OCSP_SUFFIXES,
    TrustStore,
    default_trust_store,
    trust_dir,
)
from aips.shared.eds.types import REFUSAL_MESSAGES, EdsRefused, Purpose, Refusal, Role, Verification
from aips.shared.eds.verify import parse_cms, split_signers, verify_cms
from aips.shared.workflow.signing import export_signed_act

ROLE_NAMES = {
    Role.INDIVIDUAL: "individual",
    Role.EMPLOYEE_OF_LEGAL_ENTITY: "employee of a legal entity",
    Role.HEAD: "head",
    Role.RIGHT_TO_SIGN: "right to sign",
    Role.EMPLOYEE: "employee",
}
MAX_INPUT = 512 * 1024 * 1024


class Command(BaseCommand):
    help = "Electronic digital signatures (NCA RK): verify a CMS signature or an AIPS bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify",
            help="verify a CMS file (attached, or detached with --data), or a bundle (.zip or its "
            "directory); exit 0 only when valid",
        )
        verify.add_argument("file", help="the CMS (DER, PEM or base64), a bundle .zip or directory")
        verify.add_argument("--data", help="the signed content of a detached signature")
        verify.add_argument(
            "--trust",
            action="append",
            default=[],
            metavar="DIR",
            help="certificates (*.cer, *.crt, *.pem), CRLs (*.crl) and OCSP answers (*.ocsp, "
            "*.bin) to trust; repeatable; default: AIPS_EDS_TRUST_DIR",
        )
        verify.add_argument(
            "--at",
            help="judge validity and revocation at this moment (ISO 8601, e.g. "
            "2022-09-01T12:00:00Z); default: the signing time in the signature",
        )
        verify.add_argument(
            "--purpose",
            choices=["any", "signing", "authentication"],
            default="any",
            help="the key's purpose to require; any: a signing key, else an authentication key",
        )
        verify.add_argument(
            "--expect-iin", default="", help="refuse unless the signer has this IIN"
        )
        verify.add_argument(
            "--expect-bin", default="", help="refuse unless the signer has this BIN"
        )
        # EDS-signed approvals (issue 16, item 4): the bundle of a stored signature with the exact
        # document it covers, for an auditor to keep and check with `verify` above.
        export = sub.add_parser(
            "export",
            help="write the bundle of a signed approval or decision (by its signature id) to a "
            "zip file that `aips eds verify` checks",
        )
        export.add_argument("signature", type=int, help="the signature's id")
        export.add_argument("-o", "--output", required=True, help="the zip file to write")
        status = sub.add_parser(
            "status",
            help="the trust store (certificates, CRLs and their next update) and the worker's "
            "last CRL refresh",
        )
        status.add_argument(
            "--refresh", action="store_true", help="download the CRLs now (as the worker does)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options["signature"], Path(options["output"]))
            return
        if options["action"] == "status":
            self._status(refresh=options["refresh"])
            return
        source = Path(options["file"])
        cms, data, bundle_trust, helpers = self._read(source, options["data"])
        trust = self._trust(options["trust"], bundle_trust)
        at = _moment(options["at"]) if options["at"] else None
        try:
            signers = split_signers(cms)
        except MalformedInput as exc:
            raise CommandError(f"REFUSED: {Refusal.MALFORMED.value}: {exc}", returncode=1) from exc
        if not signers:
            raise CommandError("REFUSED: malformed: the CMS has no signer", returncode=1)
        refusals = []
        for index, single in enumerate(signers):
            if len(signers) > 1:
                self.stdout.write(f"--- signer {index + 1} of {len(signers)}")
            try:
                verification = self._verify(single, data, trust, at, helpers, options)
            except EdsRefused as exc:
                message = str(REFUSAL_MESSAGES[exc.reason])
                self.stdout.write(f"Result: REFUSED ({exc.reason.value})")
                self.stdout.write(f"Reason: {message}")
                if exc.detail:
                    self.stdout.write(f"Detail: {exc.detail}")
                refusals.append(f"{exc.reason.value}: {message} {exc.detail}".strip())
                continue
            self._report(verification)
        for problem in trust.problems:
            self.stderr.write(f"warning: trust store: {problem}")
        if refusals:
            raise CommandError("REFUSED: " + "; ".join(refusals), returncode=1)

    def _status(self, *, refresh: bool) -> None:
        if refresh:
            result = refresh_crls(store=TrustStore.from_dir(trust_dir()))
            self.stdout.write(f"Refresh: {result.summary()}")
            for url, why in result.failed.items():
                self.stdout.write(f"  failed {url}: {why}")
        store = default_trust_store()
        self.stdout.write(f"Trust directory: {trust_dir()}")
        self.stdout.write(f"CRL directory: {crl_dir()}")
        for cert in store.certs:
            self.stdout.write(f"Certificate: {cert.subject_text} (until {_iso(cert.not_after)})")
        now = datetime.now(UTC)
        for parsed in store.parsed_crls:
            next_update = _iso(parsed.next_update) if parsed.next_update else "-"
            expired = " EXPIRED" if parsed.next_update and parsed.next_update <= now else ""
            self.stdout.write(f"CRL: {parsed.source} (next update {next_update}){expired}")
        for url in crl_urls(store):
            self.stdout.write(f"CRL URL: {url}")
        status = read_status()
        minutes = settings.AIPS_EDS_CRL_REFRESH_MINUTES
        self.stdout.write(f"Refresh every: {f'{minutes} min' if minutes > 0 else 'off'}")
        self.stdout.write(f"Last refresh run: {status.get('last_run') or '-'}")
        self.stdout.write(f"Last successful refresh: {status.get('last_success') or '-'}")
        failed = status.get("failed")
        for url, why in (failed if isinstance(failed, dict) else {}).items():
            self.stdout.write(f"Last failure: {url}: {why}")
        for problem in store.problems:
            self.stderr.write(f"warning: trust store: {problem}")

    def _export(self, signature_id: int, output: Path) -> None:
        try:
            data = export_signed_act(actor=cli_actor(), signature_id=signature_id)
        except Http404 as exc:
            raise CommandError(
                f"no signed approval or decision with signature id {signature_id}", returncode=1
            ) from exc
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise CommandError(
                f"cannot write {output}: {exc.strerror or exc}", returncode=2
            ) from exc
        self.stdout.write(f"Bundle of signature {signature_id} written to {output}")

    # --- input ------------------------------------------------------------------------------------

    def _read(
        self, source: Path, data_path: str | None
    ) -> tuple[bytes, bytes | None, TrustStore | None, list[bytes]]:
        """(CMS, data, the bundle's revocation evidence, the bundle's chain) from FILE."""
        if source.is_dir():
            files = {
                str(p.relative_to(source)).replace("\\", "/"): p.read_bytes()
                for p in source.rglob("*")
                if p.is_file()
            }
            return self._from_bundle(files, source, data_path)
        raw = _read_file(source)
        if raw[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                    files = {
                        info.filename: archive.read(info)
                        for info in archive.infolist()
                        if not info.is_dir() and info.file_size <= MAX_INPUT
                    }
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise CommandError(f"cannot read the bundle {source}: {exc}", returncode=2) from exc
            return self._from_bundle(files, source, data_path)
        data = _read_file(Path(data_path)) if data_path else None
        return raw, data, None, []

    def _from_bundle(
        self, files: dict[str, bytes], source: Path, data_path: str | None
    ) -> tuple[bytes, bytes | None, TrustStore | None, list[bytes]]:
        if "signature.p7s" not in files:
            raise CommandError(f"{source}: no signature.p7s in the bundle", returncode=2)
        data = _read_file(Path(data_path)) if data_path else files.get("content.bin")
        crls = [
            (name, der)
            for name, der in files.items()
            if name.startswith("revocation/") and name.endswith(CRL_SUFFIXES)
        ]
        responses = [
            (name, der)
            for name, der in files.items()
            if name.startswith("revocation/") and name.endswith(OCSP_SUFFIXES)
        ]
        chain = [
            der
            for name, der in sorted(files.items())
            if name.startswith("chain/") and name.endswith(CERTIFICATE_SUFFIXES)
        ]
        self.stdout.write(f"Bundle: {source}")
        return (
            files["signature.p7s"],
            data,
            TrustStore().extended(crls=crls, ocsp_responses=responses),
            chain,
        )

    def _trust(self, dirs: list[str], bundle_trust: TrustStore | None) -> TrustStore:
        if dirs:
            store = TrustStore(source=", ".join(dirs))
            for directory in dirs:
                if not Path(directory).is_dir():
                    raise CommandError(f"--trust {directory}: not a directory", returncode=2)
                store = store.merged(TrustStore.from_dir(directory))
        else:
            store = default_trust_store()
        if bundle_trust is not None:
            store = store.merged(bundle_trust)
        return store

    # --- verification ---------------------------------------------------------------------------

    def _verify(
        self,
        cms: bytes,
        data: bytes | None,
        trust: TrustStore,
        at: datetime | None,
        helpers: list[bytes],
        options: dict[str, Any],
    ) -> Verification:
        if at is None:
            # The auditor's default: everything judged at the signing time, with the evidence
            # given (verify_cms without `at` would also judge revocation up to now).
            try:
                signing_time = parse_cms(cms).signers[0].signing_time
            except (MalformedInput, IndexError, ValueError):
                signing_time = None
            at = signing_time or datetime.now(UTC)
        purposes = {
            "signing": [Purpose.SIGNING],
            "authentication": [Purpose.AUTHENTICATION],
            "any": [Purpose.SIGNING, Purpose.AUTHENTICATION],
        }[options["purpose"]]
        for attempt, purpose in enumerate(purposes):
            try:
                return verify_cms(
                    cms,
                    purpose=purpose,
                    data=data,
                    at=at,
                    trust=trust,
                    expected_iin=options["expect_iin"],
                    expected_bin=options["expect_bin"],
                    extra_certificates=helpers,
                )
            except EdsRefused as exc:
                if exc.reason is not Refusal.WRONG_KEY_USAGE or attempt == len(purposes) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _report(self, verification: Verification) -> None:
        signer = verification.signer
        write = self.stdout.write
        write("Result: VALID")
        write(f"Signer: {signer.common_name}")
        write(f"IIN: {signer.iin or '-'}")
        write(f"BIN: {signer.bin or '-'}")
        if signer.organization:
            write(f"Organization: {signer.organization}")
        roles = ", ".join(sorted(ROLE_NAMES.get(role, role.value) for role in signer.roles)) or "-"
        write(f"Roles: {roles}")
        if verification.purpose is not None:
            write(f"Key purpose: {verification.purpose.value}")
        write(f"Algorithm: {verification.algorithm}")
        write(
            f"Signing time: {_iso(verification.signing_time) if verification.signing_time else '-'}"
        )
        write(f"Checked at: {_iso(verification.checked_at)}")
        write(f"Content: {len(verification.content)} bytes")
        write("Chain:")
        for index, der in enumerate(verification.chain):
            cert = parse_certificate(der)
            write(f"  [{index}] {cert.subject_text}")
            write(
                f"      serial {cert.serial_hex}, "
                f"valid {_iso(cert.not_before)} .. {_iso(cert.not_after)}, "
                f"SHA-256 {cert.fingerprint_sha256}"
            )
        write("Revocation:")
        if not verification.revocation:
            write("  none (AIPS_EDS_REVOCATION_UNKNOWN=accept)")
        for evidence in verification.revocation:
            write(
                f"  {evidence.kind} {evidence.source}: {evidence.status}, "
                f"produced {_iso(evidence.produced_at)}"
            )


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_INPUT:
            raise CommandError(f"{path}: larger than {MAX_INPUT} bytes", returncode=2)
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}", returncode=2) from exc


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"--at {text}: not an ISO 8601 moment", returncode=2) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
