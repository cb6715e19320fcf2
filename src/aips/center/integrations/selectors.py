"""Reads of integration modules and their health (R67.7): always through visible_to(), so the
center sees every organization's modules and an organization's head only their own. Counts come
from the hourly signal rollups, never from raw signals."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.center.integrations import ca
from aips.center.integrations.models import IntegrationModule, IntegrationModuleQuerySet
from aips.center.integrations.traffic import traffic
from aips.core.actors import Actor
from aips.shared.organizations.models import Organization

LATE_AFTER = timedelta(minutes=5)
SILENT_AFTER = timedelta(hours=1)


class Health(StrEnum):
    OK = "ok"
    LATE = "late"
    SILENT = "silent"
    NEVER = "never"
    REVOKED = "revoked"


HEALTH_LABELS = {
    Health.OK: _("OK"),
    Health.LATE: _("Late (no contact for over 5 minutes)"),
    Health.SILENT: _("Silent (no contact for over an hour)"),
    Health.NEVER: _("Never seen"),
    Health.REVOKED: _("Revoked"),
}
HEALTH_CHOICES = [(h.value, HEALTH_LABELS[h]) for h in Health]
# Badge styles that base.css already has.
HEALTH_BADGES = {
    Health.OK: "active",
    Health.LATE: "awaiting_approval",
    Health.SILENT: "overdue",
    Health.NEVER: "",
    Health.REVOKED: "inactive",
}


def _state_filter(state: Health, now: datetime) -> Q:
    """The same rule as health_of(), as a query, so filters and pagination stay in the database."""
    active = Q(revoked_at__isnull=True)
    if state == Health.REVOKED:
        return Q(revoked_at__isnull=False)
    if state == Health.NEVER:
        return active & Q(last_seen_at__isnull=True)
    if state == Health.SILENT:
        return active & Q(last_seen_at__lte=now - SILENT_AFTER)
    if state == Health.LATE:
        return (
            active & Q(last_seen_at__lte=now - LATE_AFTER) & Q(last_seen_at__gt=now - SILENT_AFTER)
        )
    return active & Q(last_seen_at__gt=now - LATE_AFTER)


def health_of(module: IntegrationModule, now: datetime) -> Health:
    if module.revoked_at is not None:
        return Health.REVOKED
    if module.last_seen_at is None:
        return Health.NEVER
    quiet = now - module.last_seen_at
    if quiet >= SILENT_AFTER:
        return Health.SILENT
    if quiet >= LATE_AFTER:
        return Health.LATE
    return Health.OK


def modules_for(
    actor: Actor,
    *,
    organization_id: int | None = None,
    state: str | None = None,
    now: datetime | None = None,
) -> IntegrationModuleQuerySet:
    qs = IntegrationModule.objects.visible_to(actor).select_related("organization")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if state:
        qs = qs.filter(_state_filter(Health(state), now or timezone.now()))
    return qs.order_by("organization__name", "name", "pk")


def get_module_for(actor: Actor, pk: int) -> IntegrationModule:
    """404 both for a missing module and for another organization's."""
    try:
        return IntegrationModule.objects.visible_to(actor).select_related("organization").get(pk=pk)
    except IntegrationModule.DoesNotExist as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class ModuleHealth:
    module: IntegrationModule
    state: Health
    accepted_1h: int = 0
    rejected_1h: int = 0
    accepted_24h: int = 0
    rejected_24h: int = 0
    duplicates_24h: int = 0

    @property
    def state_label(self) -> str:
        return str(HEALTH_LABELS[self.state])

    @property
    def badge(self) -> str:
        return HEALTH_BADGES[self.state]

    @property
    def status(self) -> dict[str, Any]:
        """What the module said in its last heartbeat (queue depth, inputs…)."""
        value = self.module.last_status
        return value if isinstance(value, dict) else {}


def _hour(at: datetime) -> datetime:
    # The rollups' buckets are whole UTC hours (signals.services._hour).
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def module_health(
    actor: Actor,
    *,
    modules: list[IntegrationModule] | None = None,
    organization_id: int | None = None,
    state: str | None = None,
    now: datetime | None = None,
) -> list[ModuleHealth]:
    """Each visible module with its health state and signal counts. Counts are whole hourly
    rollup buckets: "last hour" is the current and the previous bucket, "24 h" the current one
    and the 24 before it. The rollups are read by module id, not through their own
    visible_to(): who may see a module (auditors too) may see its counts, which carry no
    signal content."""
    now = now or timezone.now()
    if modules is None:
        modules = list(modules_for(actor, organization_id=organization_id, state=state, now=now))
    else:
        # Read again through visible_to(): fresh values, and nothing the actor may not see.
        order = [m.pk for m in modules]
        fresh = {
            m.pk: m
            for m in IntegrationModule.objects.visible_to(actor)
            .select_related("organization")
            .filter(pk__in=order)
        }
        modules = [fresh[pk] for pk in order if pk in fresh]
    if not modules:
        return []
    start_1h = _hour(now) - timedelta(hours=1)
    start_24h = _hour(now) - timedelta(hours=24)
    counts = traffic().per_module([m.pk for m in modules], start_1h, start_24h)
    return [
        ModuleHealth(module=m, state=health_of(m, now), **counts.get(m.pk, {})) for m in modules
    ]


@dataclass(frozen=True)
class HourCount:
    hour: datetime
    accepted: int
    rejected: int
    duplicates: int


def module_hourly(
    actor: Actor, module: IntegrationModule, *, hours: int = 24, now: datetime | None = None
) -> list[HourCount]:
    """Accepted, rejected and duplicate signals per hour for the last `hours` hours, oldest
    first, with empty hours as zeros."""
    module = get_module_for(actor, module.pk)
    end = _hour(now or timezone.now())
    start = end - timedelta(hours=hours - 1)
    by_hour = traffic().per_hour(module.pk, start)
    result = []
    for n in range(hours):
        hour = start + timedelta(hours=n)
        accepted, rejected, duplicates = by_hour.get(hour, (0, 0, 0))
        result.append(
            HourCount(hour=hour, accepted=accepted, rejected=rejected, duplicates=duplicates)
        )
    return result


@dataclass(frozen=True)
class CAInfo:
    pem: str
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime


def ca_info() -> CAInfo | None:
    """The center's CA certificate (public), or None before `aips ca init`."""
    from cryptography import x509

    pem = ca.certificate_pem()
    if pem is None:
        return None
    certificate = x509.load_pem_x509_certificate(pem.encode())
    return CAInfo(
        pem=pem,
        subject=certificate.subject.rfc4514_string(),
        fingerprint=ca.fingerprint_of(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def organization_name_of(actor: Actor) -> str:
    """The official name of a module's own organization (for its heartbeat answer)."""
    if actor.organization_id is None:
        return ""
    name = (
        Organization.objects.filter(pk=actor.organization_id).values_list("name", flat=True).first()
    )
    return name or ""
