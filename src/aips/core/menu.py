"""The main menu: the sections a person may open, in groups, with the one they are in marked.

The menu names URLs, never app code, so the core still imports no app. `MENU` is AIPS's; a
product names its own in `settings.AIPS_MENU` (the ETP: `aips.etp.portal.menu.MENU`). The
current section is the entry whose address is the longest prefix of the page's path
(`/signals/findings/3/` is under Correlations, not Signals); the page itself gets
`aria-current="page"`, a page below it "true"."""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    key: str
    label: Promise
    url_name: str
    perm: str | None = None  # None: everyone signed in
    center_label: Promise | None = None  # the label a center person sees instead
    also_under: tuple[str, ...] = ()  # more path prefixes that belong to this section


@dataclass(frozen=True)
class Group:
    label: Promise
    entries: tuple[Entry, ...]


MENU: tuple[Group, ...] = (
    Group(
        _("My work"),
        (
            Entry("home", _("Overview"), "core:home"),
            Entry("notifications", _("Notifications"), "notifications:list"),
        ),
    ),
    Group(
        _("Information exchange"),
        (
            Entry("incidents", _("Incident cards"), "incidents:list", "incident:view"),
            Entry("alerts", _("Alerts"), "alerts:list", "alert:view"),
            Entry("requests", _("Requests"), "inquiries:list", "request:view"),
        ),
    ),
    Group(
        _("Monitoring"),
        (
            Entry("signals", _("Signals"), "signals:list", "signal:view"),
            Entry("correlations", _("Correlations"), "signals:findings", "correlation:view"),
            Entry(
                "integrations", _("Integration modules"), "integrations:list", "integration:view"
            ),
            Entry(
                "partners",
                _("Partners' TAXII collections"),
                "exchange:partner_list",
                "exchange:partners",
            ),
        ),
    ),
    Group(
        _("Administration"),
        (
            Entry(
                "organizations",
                _("My organization"),
                "organizations:list",
                "organization:view",
                center_label=_("Organizations"),
            ),
            Entry("users", _("Users"), "accounts:user_list", "user:view"),
            Entry(
                "user_requests",
                _("New-user requests"),
                "accounts:user_request_list",
                "user_request:view",
            ),
            Entry("audit", _("Audit journal"), "audit:list", "audit:view"),
            Entry("patches", _("Security updates"), "patches:report", "patch:view"),
            Entry("calendar", _("Working-day calendar"), "workdays:calendar", "calendar:manage"),
            Entry("profile", _("My profile"), "accounts:profile", also_under=("/mfa/",)),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str
    current: str  # "", "page" or "true": the value of aria-current


@dataclass(frozen=True)
class Section:
    label: str
    links: tuple[Link, ...]


def active_menu() -> tuple[Group, ...]:
    """The menu of the product this deployment serves (`settings.AIPS_MENU`)."""
    menu: tuple[Group, ...] = import_string(settings.AIPS_MENU)
    return menu


def _prefixes(entry: Entry, url: str) -> tuple[str, ...]:
    return (url, *entry.also_under)


def build(request: HttpRequest, perms: AbstractSet[str], *, is_center: bool) -> list[Section]:
    """The groups this person may see (empty groups left out), the current entry marked."""
    path = request.path
    visible: list[tuple[Group, list[tuple[Entry, str]]]] = []
    for group in active_menu():
        entries = []
        for entry in group.entries:
            if entry.perm is not None and entry.perm not in perms:
                continue
            try:
                entries.append((entry, reverse(entry.url_name)))
            except NoReverseMatch:  # a product not installed in this deployment
                continue
        if entries:
            visible.append((group, entries))
    best_key, best_len = "", 0
    for _group, entries in visible:
        for entry, url in entries:
            for prefix in _prefixes(entry, url):
                # "/" would be a prefix of everything: home is current only on itself.
                matches = path == prefix if prefix == "/" else path.startswith(prefix)
                if matches and len(prefix) > best_len:
                    best_key, best_len = entry.key, len(prefix)
    sections = []
    for group, entries in visible:
        links = []
        for entry, url in entries:
            label = entry.center_label if is_center and entry.center_label else entry.label
            current = "" if entry.key != best_key else ("page" if path == url else "true")
            links.append(Link(entry.key, str(label), url, current))
        sections.append(Section(str(group.label), tuple(links)))
    return sections


def current_label(sections: list[Section]) -> str:
    return next((link.label for s in sections for link in s.links if link.current), "")
