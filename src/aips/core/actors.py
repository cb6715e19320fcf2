"""Actors that are not people: the command line and the system itself. They act with center-admin
rights and appear in the audit journal by label."""

from dataclasses import dataclass

from aips.core.permissions import Role


@dataclass(frozen=True)
class SystemActor:
    label: str = "system"
    role: str = Role.CENTER_ADMIN
    is_authenticated: bool = True
    is_active: bool = True
    is_center: bool = True
    pk: None = None
    organization_id: None = None
    actor_kind: str = "system"

    @property
    def email(self) -> str:
        return self.label


def cli_actor() -> SystemActor:
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return SystemActor(label=f"cli:{who}")
