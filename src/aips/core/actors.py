"""Who acts. `Actor` is the one type every service, selector and queryset takes for the acting
party: a signed-in person (`accounts.User`), an integration module (`integrations.ModuleActor`)
or the system itself (`SystemActor`: the command line and the worker, with the rights of the
product's administrator role, named in the audit journal by label).

Django's `AnonymousUser` is deliberately not an `Actor`: it has no organization, role or e-mail,
so a service handed one could only guess. It appears only at the edges, in `Viewer` (what reads
and permission checks accept, and answer with nothing), and `acting(request)` turns the request
of a view that passed `require`/`api_auth` into the `Actor` that services take."""

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from aips.core.errors import Forbidden
from aips.core.permissions import Permission, active_table


class Actor(Protocol):
    """What the system relies on about whoever acts. Read-only, so frozen dataclasses and model
    fields both satisfy it; mypy checks every implementation structurally."""

    @property
    def pk(self) -> int | None: ...  # a person's account id; None for modules and the system

    @property
    def organization_id(self) -> int | None: ...  # None only for the system itself

    @property
    def role(self) -> str: ...

    @property
    def is_center(self) -> bool: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def email(self) -> str: ...  # the label the audit journal shows

    @property
    def actor_kind(self) -> str: ...  # "user", "agent" or "system"


class Person(Actor, Protocol):
    """An actor who is a signed-in person (`accounts.User`): what a service needs when it records
    the actor as the author of a row (a comment, a submitted version, an upload). The system and
    integration modules have no account id, so they are not people and mypy refuses them there."""

    @property
    def pk(self) -> int: ...

    @property
    def organization_id(self) -> int: ...


# Whoever may be looking at something: reads and permission checks accept an anonymous visitor
# (or nobody) and answer with nothing; writes take an `Actor`.
Viewer: TypeAlias = Actor | AnonymousUser | None


def as_actor(viewer: Viewer) -> Actor | None:
    """The viewer as an acting party, or None for nobody, an anonymous visitor or a deactivated
    account: the one place that decides who counts as acting at all."""
    if viewer is None or isinstance(viewer, AnonymousUser):
        return None
    if not viewer.is_authenticated or not viewer.is_active:
        return None
    return viewer


def actor_perms(user: Viewer) -> frozenset[Permission]:
    """What the viewer may do, from the active product's table (core/permissions.py)."""
    actor = as_actor(user)
    if actor is None:
        return frozenset()
    table = active_table()
    # getattr: a stand-in without the attribute is a person, and a person has a role to look up.
    if getattr(actor, "actor_kind", None) == "agent":
        # An integration module acts only through the signal API, never with a person's role.
        return table.agent_permissions
    return table.perms_of(actor.role)


def has_perm(user: Viewer, perm: Permission) -> bool:
    return perm in actor_perms(user)


def acting(request: HttpRequest) -> Actor:
    """The actor of a request that passed `require(perm)` or `api_auth(perm)`. Both refuse an
    anonymous caller first, so the Forbidden here is a guard that never fires in practice."""
    actor = as_actor(request.user)
    if actor is None:
        raise Forbidden()
    return actor


@dataclass(frozen=True)
class SystemActor:
    label: str = "system"
    is_authenticated: bool = True
    is_active: bool = True
    is_center: bool = True
    pk: None = None
    organization_id: None = None
    actor_kind: str = "system"

    @property
    def email(self) -> str:
        return self.label

    @property
    def role(self) -> str:
        """The active product's administrator role (AIPS: center admin; ETP: operator admin)."""
        return active_table().system_role


def cli_actor() -> SystemActor:
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return SystemActor(label=f"cli:{who}")
