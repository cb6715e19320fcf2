"""Display names for the `holidays` package's Kazakhstan holidays, in AIPS's own catalogue.

The package names its holidays in English, Kazakh and Ukrainian only, and AIPS speaks Russian
too, so the English names are the keys and every language (kk included) comes from our .po
files. A name the table does not know (a newer package release) is shown as the package gives it.
"""

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aips.shared.workdays.models import MovedDayKind

HOLIDAY_NAMES: dict[str, Any] = {
    "New Year's Day": gettext_lazy("New Year"),
    "Orthodox Christmas": gettext_lazy("Orthodox Christmas"),
    "International Women's Day": gettext_lazy("International Women's Day"),
    "Nowruz Holiday": gettext_lazy("Nowruz"),
    "Kazakhstan's People Solidarity Holiday": gettext_lazy(
        "Day of Unity of the People of Kazakhstan"
    ),
    "Defender of the Fatherland Day": gettext_lazy("Defender of the Fatherland Day"),
    "Victory Day": gettext_lazy("Victory Day"),
    "Capital Day": gettext_lazy("Capital Day"),
    "Constitution Day": gettext_lazy("Constitution Day"),
    "Republic Day": gettext_lazy("Republic Day"),
    "First President Day": gettext_lazy("First President Day"),
    "Independence Day": gettext_lazy("Independence Day"),
    "Eid al-Adha": gettext_lazy("Kurban Ait"),
}

_SUFFIXED = re.compile(r"^(?P<name>.+) \((?P<suffix>observed|estimated|observed, estimated)\)$")
_SUBSTITUTED = re.compile(r"^Day off \(substituted from (?P<m>\d{2})/(?P<d>\d{2})/(?P<y>\d{4})\)$")


def holiday_name(package_name: str) -> str:
    """One of the package's English holiday names, in the active language."""
    moved = _SUBSTITUTED.match(package_name)
    if moved:
        worked = date(int(moved["y"]), int(moved["m"]), int(moved["d"]))
        return _("Day off (moved from %(date)s)") % {"date": worked.strftime("%d.%m.%Y")}
    suffixed = _SUFFIXED.match(package_name)
    base = suffixed["name"] if suffixed else package_name
    name = str(HOLIDAY_NAMES.get(base, base))
    if suffixed is None:
        return name
    if suffixed["suffix"] == "observed":
        return _("%(name)s (day off moved from the weekend)") % {"name": name}
    if suffixed["suffix"] == "estimated":
        return _("%(name)s (estimated date)") % {"name": name}
    return _("%(name)s (day off moved from the weekend, estimated date)") % {"name": name}


def holiday_names(package_names: tuple[str, ...]) -> str:
    return "; ".join(holiday_name(n) for n in package_names)


def kind_label(kind: str) -> str:
    try:
        return str(MovedDayKind(kind).label)
    except ValueError:
        return kind
