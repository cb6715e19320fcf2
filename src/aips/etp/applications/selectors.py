"""Reads of procedures, applications and deposits. A participant reads only its own
applications (`Application.objects.visible_to`); another's answers 404 (R57.5). The public
reads a lot's procedure (schedule and deposit) and never who applied or how many, unless
`AIPS_ETP_SHOW_APPLICANT_COUNT` is on."""

from aips.core.actors import Actor
from aips.core.errors import NotFound
from aips.etp.applications import rules
from aips.etp.applications.models import Application, ApplicationQuerySet, Procedure


def procedure_of(lot_id: int) -> Procedure | None:
    """The public schedule of a lot (its lot is already the caller's to see)."""
    return Procedure.objects.filter(lot_id=lot_id).first()


def applicant_count(procedure: Procedure) -> int | None:
    """How many applied, for the public page: None unless the setting shows it."""
    if not rules.show_applicant_count():
        return None
    return Application.objects.filter(procedure=procedure).count()


def application_list(*, actor: Actor) -> ApplicationQuerySet:
    return Application.objects.visible_to(actor).select_related(
        "procedure__lot", "organization", "deposit"
    )


def get_application_for(actor: Actor, pk: int) -> Application:
    application = application_list(actor=actor).filter(pk=pk).first()
    if application is None:
        raise NotFound()
    return application


def timeline(application: Application) -> list[tuple[str, object]]:
    """The participant's steps in order: application → deposit → admission."""
    from django.utils.translation import gettext as _

    deposit = application.deposit
    steps: list[tuple[str, object]] = [(str(_("Application submitted")), application.submitted_at)]
    if deposit.confirmed_at:
        steps.append((str(_("Deposit received")), deposit.confirmed_at))
    if application.decided_at:
        steps.append((application.state_label, application.decided_at))
    return steps
