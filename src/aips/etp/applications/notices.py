"""Who hears about applications and deposits (in-app and by e-mail):

| event | notified |
|---|---|
| application submitted | the participant's people (a receipt) and the admission officers |
| deposit received | the participant's people |
| admitted | the participant's people |
| refused | the participant's people (with the reason) |
| deposit returned | the participant's people |

The participant's people are the active accounts of the applying organization; the operator's
people who took a step never hear of their own step (people_to_tell leaves out the inactive and
blocked)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.etp.applications.models import Application
from aips.etp.permissions import EtpRole
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.services import Text, notify


def _participant(application: Application) -> list[User]:
    return people_to_tell(organization_id=application.organization_id)


def _tell_participant(
    *, actor: User, application: Application, kind: str, subject: Text, text: Text
) -> None:
    notify(
        users=[u for u in _participant(application) if u.pk != actor.pk],
        kind=f"etp.application.{kind}",
        subject=subject,
        text=text,
        link=reverse("etp_applications:detail", args=[application.pk]),
        email=True,
        target=application,
    )


def _params(application: Application) -> dict[str, str]:
    lot = application.procedure.lot
    return {
        "ref": application.reference,
        "lot": lot.reference,
        "amount": f"{application.deposit.amount} {lot.currency}",
    }


def application_submitted(*, actor: User, application: Application) -> None:
    params = _params(application)
    # The receipt goes to the participant's people, the person who applied too.
    notify(
        users=_participant(application),
        kind="etp.application.submitted",
        subject=Text(_("Your application %(ref)s is received"), params),
        text=Text(
            _(
                "Your application %(ref)s for lot %(lot)s is received. Pay the deposit of "
                "%(amount)s with %(ref)s in the payment's purpose."
            ),
            params,
        ),
        link=reverse("etp_applications:detail", args=[application.pk]),
        email=True,
        target=application,
    )
    officers = people_to_tell(organization__kind="operator", role=EtpRole.OPERATOR_ADMISSION)
    notify(
        users=[u for u in officers if u.pk != actor.pk],
        kind="etp.application.arrived",
        subject=Text(_("Application %(ref)s for lot %(lot)s"), params),
        text=Text(
            _("A participant applied for lot %(lot)s (%(ref)s); its deposit is %(amount)s."),
            params,
        ),
        link=reverse("etp_applications:detail", args=[application.pk]),
        email=True,
        target=application,
    )


def deposit_confirmed(*, actor: User, application: Application) -> None:
    params = _params(application)
    _tell_participant(
        actor=actor,
        application=application,
        kind="deposit_confirmed",
        subject=Text(_("The deposit for %(ref)s is received"), params),
        text=Text(
            _("The operator received the deposit of %(amount)s for application %(ref)s."),
            params,
        ),
    )


def application_admitted(*, actor: User, application: Application) -> None:
    params = _params(application)
    _tell_participant(
        actor=actor,
        application=application,
        kind="admitted",
        subject=Text(_("Application %(ref)s: admitted to the auction"), params),
        text=Text(
            _("You are admitted to the auction for lot %(lot)s (application %(ref)s)."), params
        ),
    )


def application_refused(*, actor: User, application: Application) -> None:
    params = {**_params(application), "reason": application.refusal_reason}
    _tell_participant(
        actor=actor,
        application=application,
        kind="refused",
        subject=Text(_("Application %(ref)s: admission refused"), params),
        text=Text(
            _("Your application %(ref)s for lot %(lot)s is refused. Reason: %(reason)s"), params
        ),
    )


def deposit_returned(*, actor: User, application: Application) -> None:
    params = _params(application)
    _tell_participant(
        actor=actor,
        application=application,
        kind="deposit_returned",
        subject=Text(_("The deposit for %(ref)s is returned"), params),
        text=Text(
            _("The operator returned the deposit of %(amount)s for application %(ref)s."),
            params,
        ),
    )
