"""Every change to an organization profile goes through here, with its audit event (R67.5)."""

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import ValidationFailed
from aips.core.identifiers import bin_error
from aips.core.permissions import Perm, active_table
from aips.core.validation import Fields
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.organizations.models import (
    CROSS_TENANT_KINDS,
    Organization,
    OrganizationKind,
    OrganizationStatus,
)

_UNSET: Any = object()


@dataclass
class _Profile:
    name: str
    name_kk: str
    name_ru: str
    name_en: str
    bin: str
    email: str
    kind: str
    status: str
    strong_auth_required: bool = False
    eds_approvals_required: bool = False
    eds_password_change_allowed: bool = False


def _validate(profile: _Profile, *, instance: Organization | None) -> _Profile:
    f = Fields()
    clean = _Profile(
        name=f.required_text("name", profile.name, max_length=255),
        name_kk=f.optional_text("name_kk", profile.name_kk, max_length=255),
        name_ru=f.optional_text("name_ru", profile.name_ru, max_length=255),
        name_en=f.optional_text("name_en", profile.name_en, max_length=255),
        bin=(profile.bin or "").strip(),
        email=f.email("email", profile.email),
        kind=f.choice("kind", profile.kind, OrganizationKind),
        status=f.choice("status", profile.status, OrganizationStatus),
        strong_auth_required=bool(profile.strong_auth_required),
        eds_approvals_required=bool(profile.eds_approvals_required),
        eds_password_change_allowed=bool(profile.eds_password_change_allowed),
    )
    problem = bin_error(clean.bin)
    if problem:
        f.add("bin", problem)
    else:
        clash = Organization.objects.filter(bin=clean.bin)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            f.add("bin", _("An organization with this BIN is already registered."))
    if (
        clean.kind in OrganizationKind.values
        and clean.kind not in active_table().organization_kinds
    ):
        # A kind of the other product (AIPS holds no ETP operator, the ETP no sectoral center).
        f.add("kind", _("“%(value)s” is not one of the allowed values.") % {"value": clean.kind})
    # The one organization that sees every tenant: AIPS's center, the ETP's operator.
    center = clean.kind == OrganizationKind.CENTER or (
        instance is not None and instance.kind == OrganizationKind.CENTER
    )
    if clean.kind in CROSS_TENANT_KINDS:
        others = Organization.objects.filter(kind__in=CROSS_TENANT_KINDS)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            f.add(
                "kind",
                _("There is only one sectoral center.")
                if center
                else _("There is only one ETP operator."),
            )
        if clean.status != OrganizationStatus.ACTIVE:
            f.add(
                "status",
                _("The sectoral center cannot be suspended.")
                if center
                else _("The ETP operator cannot be suspended."),
            )
    if instance is not None and instance.is_center and clean.kind != instance.kind:
        f.add(
            "kind",
            _("The sectoral center's kind cannot be changed.")
            if center
            else _("The ETP operator's kind cannot be changed."),
        )
    f.raise_if_any()
    return clean


def _save(org: Organization) -> None:
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:
        # Two admins racing on the same BIN: the unique index decides, the user gets a field error.
        raise ValidationFailed.field(
            "bin", _("An organization with this BIN is already registered.")
        ) from exc


@transaction.atomic
def organization_create(
    *,
    actor: Actor,
    name: str,
    bin: str,
    email: str,
    kind: str,
    status: str = OrganizationStatus.ACTIVE,
    name_kk: str = "",
    name_ru: str = "",
    name_en: str = "",
    strong_auth_required: bool = False,
    eds_approvals_required: bool = False,
    eds_password_change_allowed: bool = False,
) -> Organization:
    ensure_perm(actor, Perm.ORGANIZATION_CREATE)
    clean = _validate(
        _Profile(
            name,
            name_kk,
            name_ru,
            name_en,
            bin,
            email,
            kind,
            status,
            strong_auth_required,
            eds_approvals_required,
            eds_password_change_allowed,
        ),
        instance=None,
    )
    org = Organization(**clean.__dict__)
    _save(org)
    record(
        actor=actor,
        event=EventType.ORGANIZATION_CREATED,
        target=org,
        organization_id=org.pk,
        details={"bin": org.bin, "kind": org.kind, "name": org.name},
    )
    return org


@transaction.atomic
def organization_update(
    *,
    actor: Actor,
    organization: Organization,
    name: str = _UNSET,
    bin: str = _UNSET,
    email: str = _UNSET,
    kind: str = _UNSET,
    status: str = _UNSET,
    name_kk: str = _UNSET,
    name_ru: str = _UNSET,
    name_en: str = _UNSET,
    strong_auth_required: bool = _UNSET,
    eds_approvals_required: bool = _UNSET,
    eds_password_change_allowed: bool = _UNSET,
) -> Organization:
    """Change only the given fields; the audit event lists what changed, old and new (the
    strong identification policy of R57.9–R57.11 included)."""
    ensure_perm(actor, Perm.ORGANIZATION_UPDATE)
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    given: dict[str, Any] = {
        "name": name,
        "name_kk": name_kk,
        "name_ru": name_ru,
        "name_en": name_en,
        "bin": bin,
        "email": email,
        "kind": kind,
        "status": status,
        "strong_auth_required": strong_auth_required,
        "eds_approvals_required": eds_approvals_required,
        "eds_password_change_allowed": eds_password_change_allowed,
    }
    current = _Profile(**{field: getattr(org, field) for field in given})
    proposed = _Profile(
        **{k: (getattr(current, k) if v is _UNSET else v) for k, v in given.items()}
    )
    clean = _validate(proposed, instance=org)
    changes = {
        k: [getattr(current, k), getattr(clean, k)]
        for k in given
        if getattr(current, k) != getattr(clean, k)
    }
    if not changes:
        return org
    for field, (_old, new) in changes.items():
        setattr(org, field, new)
    _save(org)
    record(
        actor=actor,
        event=EventType.ORGANIZATION_UPDATED,
        target=org,
        organization_id=org.pk,
        details={"changes": changes},
    )
    return org
