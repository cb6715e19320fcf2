"""Who hears about what in the participants' app: a change of the registered phone is announced
in the app and by e-mail to the participant's people (R57.27.10), so a change they did not make
is noticed."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.etp.participants.models import ParticipantProfile
from aips.shared.accounts.models import User
from aips.shared.notifications.services import Text, notify


def _masked(phone: str) -> str:
    return f"…{phone[-4:]}" if len(phone) >= 4 else "—"


def phone_changed(*, profile: ParticipantProfile, old_phone: str) -> None:
    people = User.objects.filter(organization=profile.organization, is_active=True)
    notify(
        users=people,
        kind="etp.phone_changed",
        subject=Text(_("ETP: the registered phone was changed")),
        text=Text(
            _(
                "The registered phone of your participant profile was changed from %(old)s to "
                "%(new)s. If you did not do this, tell the ETP's operator at once."
            ),
            {"old": _masked(old_phone), "new": _masked(profile.phone)},
        ),
        link=reverse("etp_participants:profile"),
        email=True,
        target=profile,
    )
