"""The tenant base and the actor type: every tenant model's queryset is built on
`core.tenancy.TenantQuerySet`, `visible_to` is written once, and every kind of actor is an
`Actor` (mypy checks the assignments below structurally)."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.test import RequestFactory

from aips.center.integrations.models import ModuleActor
from aips.core.actors import Actor, Person, SystemActor, as_actor
from aips.core.errors import Forbidden
from aips.core.tenancy import TenantQuerySet
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person
from aips.shared.organizations.models import Organization

PACKAGE = Path(__file__).resolve().parents[2]


def _aips_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("aips.")]


def test_r67_4_every_model_with_an_organization_uses_the_tenant_base() -> None:
    offenders = [
        m._meta.label
        for m in _aips_models()
        if any(f.name == "organization" for f in m._meta.get_fields())
        and not isinstance(m._default_manager.get_queryset(), TenantQuerySet)
    ]
    assert not offenders, offenders


def test_r67_4_every_queryset_with_visible_to_is_the_tenant_base() -> None:
    offenders = [
        m._meta.label
        for m in _aips_models()
        if hasattr(m._default_manager.get_queryset(), "visible_to")
        and not isinstance(m._default_manager.get_queryset(), TenantQuerySet)
    ]
    assert not offenders, offenders


def test_r67_4_visible_to_is_written_once() -> None:
    """Models express their differences through the hooks (center_scope, organization_scope)."""
    pattern = re.compile(r"\bdef visible_to\b")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "tests" not in path.parts
        and path != PACKAGE / "core" / "tenancy.py"
        and pattern.search(path.read_text())
    ]
    assert not offenders, offenders


def test_every_kind_of_actor_is_an_actor() -> None:
    person: Actor = User(email="a@example.kz", role="org_viewer", organization_id=1)
    module: Actor = ModuleActor(module_id=1, organization_id=1, name="agent")
    system: Actor = SystemActor()
    assert [a.actor_kind for a in (person, module, system)] == ["user", "agent", "system"]


def test_a_person_is_an_actor_with_an_account() -> None:
    # Services that record who did it (author, creator, uploader) take a Person; mypy refuses
    # SystemActor and ModuleActor there, since their pk is None.
    person: Person = User(pk=7, email="a@example.kz", role="org_viewer", organization_id=1)
    assert (person.pk, person.organization_id) == (7, 1)


def test_acting_person_gives_the_signed_in_user_and_refuses_anyone_else() -> None:
    request = RequestFactory().get("/")
    user = User(pk=7, email="a@example.kz", role="org_viewer", organization_id=1)
    request.user = user
    assert acting_person(request) is user
    request.user = AnonymousUser()
    with pytest.raises(Forbidden):
        acting_person(request)


@pytest.mark.django_db
def test_r67_4_nobody_anonymous_and_deactivated_see_nothing_and_the_system_sees_all() -> None:
    if not Organization.objects.exists():
        Organization.objects.create(name="Org", bin="123456789012", email="o@example.kz")
    inactive = User(email="x@example.kz", role="center_admin", organization_id=1, is_active=False)
    assert as_actor(AnonymousUser()) is None
    assert as_actor(inactive) is None
    for nobody in (None, AnonymousUser(), inactive):
        assert not Organization.objects.visible_to(nobody).exists()
    assert Organization.objects.visible_to(SystemActor()).count() == Organization.objects.count()
