"""Who hears about signals: the center is told of every new correlation finding."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from aips.center.signals.models import CorrelationFinding
from aips.core.permissions import Role
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.services import Text, notify
from aips.shared.organizations.models import OrganizationKind


def finding_opened(finding: CorrelationFinding) -> None:
    """The center's analysts and administrators hear of a new finding, in their own language.
    The text names neither the indicator nor the organizations: an e-mail leaves AIPS's access
    control, so it only says that there is something to review."""
    notify(
        users=people_to_tell(
            organization__kind=OrganizationKind.CENTER,
            role__in=[Role.CENTER_ANALYST, Role.CENTER_ADMIN],
        ),
        kind="correlation.found",
        subject=Text(
            gettext_lazy("AIPS: indicator seen at %(n)d organizations"),
            {"n": finding.organization_count},
        ),
        text=Text(
            gettext_lazy(
                "An indicator was seen at %(n)d organizations within the correlation window. "
                "Review the finding and turn it into a threat alert if it is a threat."
            ),
            {"n": finding.organization_count},
        ),
        link=reverse("signals:finding", kwargs={"pk": finding.pk}),
        email=True,
        target=finding,
    )
