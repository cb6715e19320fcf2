"""EDS-signed approvals and decisions (issue 16, item 4; R57.9, R57.10).

Where the IS-unit head's agreement is the legal act (approving a card, an alert, a request or an
answer; accepting or declining an alert or a request), the head may sign it with EDS, and an
organization's `eds_approvals_required` makes it mandatory. The product's service builds the
act's canonical document (`eds.canonical.ActDocument`) from the item as it stands, then:

1. `check()` before the move: no signature where one is required → 422 `eds_required`; a
   signature from a person without a bound IIN → 422 `eds_iin_not_bound`; otherwise the
   detached CMS is verified over exactly the document's bytes, as a signing key (never an
   authentication key), of the head's own IIN and, when the certificate names one, the
   organization's BIN (`eds.verify.verify_cms` → 422 `eds_*` with a translated message);
2. the move itself (its audit event carries `audit_details()`);
3. `keep()` in the same transaction: the signature is stored (`eds.services.signature_store`)
   and linked to the item, the decision, the version and the bytes (`SignedAct`).

A refusal raised anywhere rolls the whole act back. The page offers the document to NCALayer
(`page_document()`, the partial `workflow/_eds_sign.html`), shows the stored acts (`shown()`,
`workflow/_signatures.html`), and the bundle for auditors comes from `bundle()` (pages, API,
`aips eds export`)."""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aips.core.actors import Actor, Viewer
from aips.core.errors import AppError, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.bundle import export_bundle
from aips.shared.eds.canonical import ActDocument, FileDigest, b64
from aips.shared.eds.models import Signature
from aips.shared.eds.services import signature_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal, Verification
from aips.shared.eds.verify import verify_cms
from aips.shared.organizations.models import Organization
from aips.shared.workflow.models import SignedAct, Version

# A CMS with its certificate chain is a few kilobytes; anything this large is not one.
MAX_SIGNATURE_CHARS = 200_000


@dataclass(frozen=True)
class Checked:
    """A signature that passed, waiting for the act to be stored with it."""

    verification: Verification
    cms: bytes
    document: bytes


@dataclass(frozen=True)
class PageDocument:
    """What the act's form hands the browser: the document as it stands with no reason, the
    bytes around the reason (base64 each), the name of the reason field (empty when the act has
    none), and whether a signature is mandatory."""

    data: str
    before: str
    after: str
    reason_field: str
    required: bool
    signable: bool  # the person has a bound IIN, so their signature can be accepted


def person_name(person: User) -> str:
    return str(person.full_name or person.email)


def document_for(
    *,
    actor: User,
    kind: str,
    item_id: int,
    reference: str,
    version: int,
    content: dict[str, Any],
    decision: str,
    files: list[FileDigest] | None = None,
    reason: str = "",
) -> ActDocument:
    """The act's canonical document, `actor` deciding for their own organization."""
    organization = actor.organization
    return ActDocument(
        kind=kind,
        item_id=item_id,
        reference=reference,
        version=version,
        content=content,
        decision=decision,
        person_id=actor.pk,
        person_name=person_name(actor),
        iin=actor.iin,
        organization_bin=organization.bin,
        organization_name=organization.name,
        files=tuple(files or ()),
        reason=reason,
    )


def files_of(rows: Any) -> list[FileDigest]:
    """The stored files' digests, as recorded at upload (`files.StoredFile.sha256`)."""
    return [FileDigest(name=f.file_name, size=f.size, sha256=f.sha256) for f in rows]


def required(actor: User) -> bool:
    """The organization's policy as it stands now (read afresh: the center may just have set
    it, and the person's cached organization would not know)."""
    return bool(
        Organization.objects.filter(pk=actor.organization_id, eds_approvals_required=True).exists()
    )


def _decode(raw: str) -> bytes:
    text = "".join((raw or "").split())
    if len(text) > MAX_SIGNATURE_CHARS:
        raise EdsRefused(Refusal.MALFORMED, "too long")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EdsRefused(Refusal.MALFORMED, "not base64") from exc


def check(
    *, actor: User, document: ActDocument | None, eds_signature: str, allowed: bool = True
) -> Checked | None:
    """Before the act: refuse what may not pass; None when the act goes unsigned. `allowed`
    False (the person may not take this step at all, or not now) leaves the refusal to the
    move itself, so a stranger still hears 403 and a wrong state 409 first."""
    given = bool((eds_signature or "").strip())
    if not allowed:
        return None
    if document is None:
        if given:
            raise ValidationFailed.field("eds_signature", _("This step is not signed with EDS."))
        return None
    if not given:
        if required(actor):
            raise AppError(
                _(
                    "Your organization requires this decision to be signed with EDS: sign it "
                    "with your signing key in NCALayer."
                ),
                code="eds_required",
                status=422,
            )
        return None
    if not actor.iin:
        raise AppError(
            _(
                "Your account has no IIN bound to it yet: bind your EDS on the “Bind my EDS” "
                "page of your profile, then sign the decision."
            ),
            code="eds_iin_not_bound",
            status=422,
        )
    cms = _decode(eds_signature)
    data = document.to_bytes()
    verification = verify_cms(cms, purpose=Purpose.SIGNING, data=data, expected_iin=actor.iin)
    # A personal key (no BIN) may sign for the head; a legal entity's key only for its own.
    signer_bin = verification.signer.bin
    if signer_bin and signer_bin != document.organization_bin:
        raise EdsRefused(Refusal.BIN_MISMATCH, f"certificate BIN {signer_bin}")
    return Checked(verification=verification, cms=cms, document=data)


def audit_details(checked: Checked | None) -> dict[str, Any]:
    """What the act's own audit event says about its signature."""
    if checked is None:
        return {}
    signer = checked.verification.signer
    return {
        "eds": {
            "iin": signer.iin,
            "bin": signer.bin,
            "serial": signer.serial_hex,
            "fingerprint": signer.fingerprint_sha256,
        }
    }


def keep(
    *,
    actor: User,
    checked: Checked | None,
    item: models.Model,
    act: str,
    version_of: models.Model | None = None,
) -> SignedAct | None:
    """After the act, in its transaction: the signature stored and linked to what it covered,
    the latest version of `version_of` (the item itself unless the act is on another's copy)."""
    if checked is None:
        return None
    version = latest_version(version_of if version_of is not None else item)
    signature = signature_store(actor=actor, verification=checked.verification, cms=checked.cms)
    return SignedAct.objects.create(
        content_type=ContentType.objects.get_for_model(item),
        object_id=item.pk,
        act=act,
        version=version,
        signature=signature,
        document=checked.document,
        signed_by=actor,
        organization_id=actor.organization_id,
    )


def latest_version(item: models.Model) -> Version | None:
    return (
        Version.objects.filter(
            content_type=ContentType.objects.get_for_model(item), object_id=item.pk
        )
        .order_by("-number")
        .first()
    )


def page_document(
    *, actor: User, document: ActDocument | None, reason_field: str = ""
) -> PageDocument | None:
    """The form's part of the act: what NCALayer will be asked to sign."""
    if document is None:
        return None
    before, after = document.around_reason()
    return PageDocument(
        data=b64(document.with_reason("").to_bytes()),
        before=b64(before),
        after=b64(after),
        reason_field=reason_field,
        required=required(actor),
        signable=bool(actor.iin),
    )


def signatures_of(actor: Viewer, *items: models.Model) -> list[SignedAct]:
    """The signed acts on these items, oldest first. Callers establish that `actor` may see the
    items and their signatures first (the acts are read through their items)."""
    by_type: dict[int, list[int]] = {}
    for item in items:
        content_type = ContentType.objects.get_for_model(item)
        by_type.setdefault(content_type.pk, []).append(int(item.pk))
    query = models.Q(pk__in=[])
    for content_type_id, ids in by_type.items():
        query |= models.Q(content_type_id=content_type_id, object_id__in=ids)
    return list(
        SignedAct.objects.visible_to(actor)
        .filter(query)
        .select_related("signature", "signed_by", "version")
        .prefetch_related("signature__revocation")
        .order_by("created_at", "id")
    )


def signed_act_in(acts: list[SignedAct], pk: int) -> SignedAct:
    """One of the acts a reader may see, or 404 (another tenant's looks like a missing one)."""
    for act in acts:
        if act.pk == pk:
            return act
    raise Http404


def on(acts: list[SignedAct], item: models.Model) -> list[SignedAct]:
    """Those of `acts` taken on `item` (a page shows a thread's acts in the thread's block)."""
    content_type_id = ContentType.objects.get_for_model(item).pk
    return [a for a in acts if a.content_type_id == content_type_id and a.object_id == item.pk]


ACT_LABELS = {
    "approve": gettext_lazy("Approval"),
    "accept": gettext_lazy("Acceptance"),
    "decline": gettext_lazy("Refusal"),
    "approve_answer": gettext_lazy("Approval of the answer"),
}


@dataclass(frozen=True)
class Shown:
    """One signed act as a page shows it: what, by whom (IIN), when, and the bundle's link."""

    act: SignedAct
    label: str
    name: str
    iin: str
    organization: str
    at: datetime
    checked_by: str
    url: str


def _checked_by(signature: Signature) -> str:
    kinds = sorted({r.kind for r in signature.revocation.all()})
    if not kinds:
        return ""
    names = {"ocsp": "OCSP", "crl": "CRL", "delta_crl": _("delta CRL")}
    return _("revocation checked by %(how)s") % {
        "how": ", ".join(str(names.get(k, k)) for k in kinds)
    }


def shown(acts: list[SignedAct], *, url: Callable[[SignedAct], str]) -> list[Shown]:
    """The acts for a page. Only signatures that passed every check are ever stored, so each
    stood valid and unrevoked when it was made; the page says which evidence showed it."""
    out = []
    for act in acts:
        signature = act.signature
        out.append(
            Shown(
                act=act,
                label=str(ACT_LABELS.get(act.act, act.act)),
                name=signature.signer_common_name or person_name(act.signed_by),
                iin=signature.signer_iin,
                organization=signature.signer_organization,
                at=signature.signing_time or signature.checked_at,
                checked_by=_checked_by(signature),
                url=url(act),
            )
        )
    return out


def signature_out(act: SignedAct) -> dict[str, Any]:
    """An act for the API (`api_schemas.SignatureOut`)."""
    signature = act.signature
    return {
        "id": act.pk,
        "act": act.act,
        "version": act.version.number if act.version is not None else None,
        "signed_by_id": act.signed_by_id,
        "signer_name": signature.signer_common_name,
        "iin": signature.signer_iin,
        "bin": signature.signer_bin,
        "signed_at": signature.signing_time or signature.checked_at,
        "certificate_serial": signature.certificate_serial,
        "certificate_issuer": signature.certificate_issuer,
        "revocation": [f"{r.kind}:{r.status}" for r in signature.revocation.all()],
        "document": b64(bytes(act.document)),
    }


def document_out(*, actor: User, document: ActDocument | None) -> dict[str, Any]:
    """The API's answer to "what do I sign?" (`api_schemas.DocumentOut`)."""
    if document is None:
        raise AppError(_("This step is not signed with EDS."), code="not_signed", status=404)
    return {"data": b64(document.to_bytes()), "required": required(actor)}


def bundle_exported(*, actor: Actor, target: models.Model, act: SignedAct) -> None:
    """The audit event of a bundle's export, in the exporter's organization's journal."""
    record(
        actor=actor,
        event=EventType.EDS_BUNDLE_EXPORTED,
        target=target,
        organization_id=actor.organization_id,
        details={"signed_act_id": act.pk, "signature_id": act.signature_id, "act": act.act},
    )


@transaction.atomic
def export_signed_act(*, actor: Actor, signature_id: int) -> bytes:
    """`aips eds export`: the bundle of the signed act whose signature has this id, for whoever
    may see it (the command runs as the system, which sees all); the export is audited."""
    try:
        act = (
            SignedAct.objects.visible_to(actor)
            .select_related("signature")
            .get(signature_id=signature_id)
        )
    except SignedAct.DoesNotExist as exc:
        raise Http404 from exc
    data = bundle(act)
    record(
        actor=actor,
        event=EventType.EDS_BUNDLE_EXPORTED,
        target=act,
        organization_id=act.organization_id,
        details={"signed_act_id": act.pk, "signature_id": act.signature_id, "act": act.act},
    )
    return data


def bundle(act: SignedAct) -> bytes:
    """The verifiable bundle of a signed act: the CMS, the exact document, the chain and the
    revocation evidence (`aips eds verify` checks it offline)."""
    signature: Signature = act.signature
    return export_bundle(signature, bytes(act.document))
