"""The house rules that keep tenants apart and permissions closed, checked mechanically."""

import re
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from aips.api import api
from aips.core.access import PUBLIC
from aips.core.permissions import ROLE_PERMISSIONS, Perm, Role

PACKAGE = Path(__file__).resolve().parents[2]


def _sources(*names: str) -> list[Path]:
    return [p for name in names for p in PACKAGE.rglob(name) if "tests" not in p.parts]


def test_r67_4_views_and_api_never_query_models_directly() -> None:
    """Reads go through selectors (visible_to / get_x_for), never `Model.objects` in a view."""
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in _sources("views.py", "api.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ".objects." in line
    ]
    assert not offenders, offenders


def test_views_api_and_commands_never_save_models() -> None:
    """Writes go through service functions, which write the audit event."""
    pattern = re.compile(r"\.(save|delete)\(|\.objects\.(create|update|bulk_create)\(")
    files = _sources("views.py", "api.py") + list((PACKAGE / "core/management").rglob("*.py"))
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text().splitlines(), 1)
        # `@router.delete(` declares an HTTP DELETE operation, not a model's delete().
        if pattern.search(line) and not line.lstrip().startswith("@")
    ]
    assert not offenders, offenders


def _web_views() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace != "api":
                    walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                found.append((str(p.name), p.callback))

    walk(get_resolver().url_patterns)
    return found


def test_r57_5_every_web_view_declares_a_permission() -> None:
    undeclared = [
        name
        for name, view in _web_views()
        if getattr(view, "aips_permission", None) not in set(Perm) | {PUBLIC}
    ]
    assert not undeclared, undeclared


def test_r57_5_every_api_operation_declares_a_permission() -> None:
    undeclared = []
    operations = [
        (bound.prefix + path, path_view)
        for bound in api._get_bound_routers()
        for path, path_view in bound.path_operations.items()
    ]
    assert len(operations) > 3
    for path, path_view in operations:
        for operation in path_view.operations:
            view = operation.view_func
            if getattr(view, "aips_permission", None) == PUBLIC:
                continue
            perms = {getattr(cb, "perm", "missing") for cb in operation.auth_callbacks}
            if not operation.auth_callbacks or not perms <= set(Perm):
                undeclared.append(f"{operation.methods} {path}")
    assert not undeclared, undeclared


def test_r57_5_every_permission_is_granted_and_every_role_has_a_row() -> None:
    from aips.core.permissions import AGENT_PERMISSIONS

    assert set(ROLE_PERMISSIONS) == set(Role)
    granted = set().union(*ROLE_PERMISSIONS.values())
    # What no person holds, an integration module does; nothing is granted to nobody.
    assert granted | AGENT_PERMISSIONS == set(Perm)
    assert not granted & AGENT_PERMISSIONS


def test_r57_5_undeclared_role_gets_nothing() -> None:
    from aips.core.access import actor_perms

    class Ghost:
        is_authenticated = True
        is_active = True
        role = "superuser"

    # A stand-in that is deliberately not a whole Actor: the check must not trust its shape.
    assert actor_perms(Ghost()) == frozenset()  # type: ignore[arg-type]
