"""What a feed caller may read: the published alerts it can open in AIPS, and of those only the
ones whose content it may read (TLP:RED and AMBER+STRICT: the named people, the author's
organization and the center; never an integration module, which is nobody's named reader)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import stix2
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from aips.center.alerts.models import Alert, AlertQuerySet, AlertState
from aips.center.alerts.selectors import content_readable
from aips.center.exchange import stix
from aips.center.exchange.models import PartnerSource, PartnerSourceQuerySet, SubmissionStatus
from aips.core.actors import Actor
from aips.core.permissions import Role
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.audit.selectors import event_list
from aips.shared.organizations.models import Organization, OrganizationKind


@dataclass(frozen=True)
class OrganizationReader:
    """An integration module reading its organization's feeds: it reaches what the
    organization's viewer role reaches (the published alerts addressed to the organization),
    and, having no account, is nobody's named reader of restricted content."""

    organization_id: int
    module_id: int
    pk: None = None
    is_center: bool = False
    is_authenticated: bool = True
    is_active: bool = True
    actor_kind: str = "user"
    role: str = Role.ORG_VIEWER

    @property
    def email(self) -> str:
        return f"module:{self.module_id}"


def feed_alerts(
    *,
    actor: Actor,
    tlp: str | None = None,
    added_after: datetime | None = None,
    current_only: bool = False,
) -> AlertQuerySet:
    """The published alerts the actor may read, oldest publication first."""
    qs = (
        Alert.objects.visible_to(actor)
        .filter(state=AlertState.PUBLISHED, published_at__isnull=False)
        .filter(content_readable(actor))  # the alerts' own TLP rule
        .select_related("threat_type")
    )
    if tlp:
        qs = qs.filter(tlp=tlp)
    if added_after is not None:
        qs = qs.filter(published_at__gt=added_after)
    if current_only:
        qs = qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now()))
    return qs.order_by("published_at", "id")


def get_feed_alert(*, actor: Actor, pk: int) -> Alert | None:
    return feed_alerts(actor=actor).filter(pk=pk).first()


def center_identity() -> stix2.Identity:
    """The center as a STIX identity (the author of everything AIPS publishes)."""
    center = Organization.objects.filter(kind=OrganizationKind.CENTER).order_by("id").first()
    if center is None:
        return stix.center_identity("AIPS", 0)
    return stix.center_identity(center.name_en or center.name, center.pk)


def get_submission_status_for(actor: Actor, status_id: str) -> SubmissionStatus | None:
    """A TAXII status of the actor's own organization, or None (missing or another's)."""
    try:
        key = uuid.UUID(status_id)
    except ValueError:
        return None
    return SubmissionStatus.objects.visible_to(actor).filter(pk=key).first()


def partner_source_list(*, actor: Actor) -> PartnerSourceQuerySet:
    return PartnerSource.objects.visible_to(actor).select_related("import_as").order_by("name")


def get_partner_source_for(actor: Actor, pk: int) -> PartnerSource:
    source = partner_source_list(actor=actor).filter(pk=pk).first()
    if source is None:
        raise Http404
    return source


def partner_polls(*, actor: Actor, source: PartnerSource, limit: int = 20) -> list[AuditEvent]:
    """The source's last polls as the journal has them (one entry per poll)."""
    return list(
        event_list(actor=actor).filter(
            event=EventType.PARTNER_POLLED,
            target_type=PartnerSource._meta.label_lower,
            target_id=str(source.pk),
        )[:limit]
    )
