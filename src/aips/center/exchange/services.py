"""Taking a partner's intelligence in: a STIX 2.1 bundle or a MISP event becomes draft alerts of
the importer's organization (the same permission as writing an alert), which the analyst checks
and completes before they go anywhere. Each draft is made by `alerts.services.alert_create`,
which writes its audit event."""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from aips.center.alerts import selectors as alert_selectors
from aips.center.alerts import services as alert_services
from aips.center.alerts.models import Alert, AlertKind
from aips.center.exchange.parsing import Draft, ImportRefused, parse_misp, parse_stix
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import ValidationFailed
from aips.core.indicators import normalize_indicator
from aips.core.permissions import Perm
from aips.shared.accounts.models import User

MAX_INDICATORS = 1000


def _create(actor: User, draft: Draft, origin: str) -> Alert:
    indicators: list[str] = []
    refused: list[str] = []
    for value in draft.indicators:
        try:
            normalized = normalize_indicator(value)["value"]
        except ValueError:
            refused.append(value[:200])
            continue
        if normalized not in indicators:
            indicators.append(normalized)
    notes = []
    if len(indicators) > MAX_INDICATORS:
        notes.append(
            _("%(n)d indicators were left out: an alert holds at most %(limit)d.")
            % {"n": len(indicators) - MAX_INDICATORS, "limit": MAX_INDICATORS}
        )
        indicators = indicators[:MAX_INDICATORS]
    not_taken = draft.skipped + refused
    if not_taken:
        notes.append(
            _("Not imported (%(n)d): %(items)s")
            % {"n": len(not_taken), "items": "; ".join(not_taken[:50])}
        )
    description = draft.description.strip() or _("Imported from %(origin)s.") % {"origin": origin}
    if notes:
        description = "\n\n".join([description, *notes])
    vulnerability = bool(draft.cve_ids) and not indicators
    other = next((t for t in alert_selectors.threat_types() if t.code == "other"), None)
    return alert_services.alert_create(
        actor=actor,
        kind=AlertKind.VULNERABILITY if vulnerability else AlertKind.THREAT,
        title=draft.title,
        source=draft.source or origin,
        threat_type_id=None if vulnerability or other is None else other.pk,
        level=draft.level,
        tlp=draft.tlp,
        description=description[:50000],
        recommendations=_("Block or monitor the indicators and check your logs for them."),
        indicators=indicators,
        cve_ids=draft.cve_ids,
        references=draft.references,
    )


@transaction.atomic
def stix_import(*, actor: User, data: bytes) -> list[Alert]:
    """Draft alerts from a STIX 2.1 bundle: one per report, one more for loose indicators."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    try:
        drafts = parse_stix(data)
    except ImportRefused as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return [_create(actor, draft, _("a STIX 2.1 bundle")) for draft in drafts]


@transaction.atomic
def misp_import(*, actor: User, data: bytes) -> Alert:
    """A draft alert from a MISP event JSON."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    try:
        draft = parse_misp(data)
    except ImportRefused as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return _create(actor, draft, _("a MISP event"))


@transaction.atomic
def restricted_served(*, actor: Actor, alerts: Iterable[Alert]) -> None:
    """A feed handed out TLP:RED or AMBER+STRICT content: each such alert's view is on the
    record, as when it is opened in AIPS (decision 0029)."""
    seen: set[int] = set()
    for alert in alerts:
        if alert.is_restricted and alert.pk not in seen:
            seen.add(alert.pk)
            alert_services.alert_viewed(actor=actor, alert=alert)
