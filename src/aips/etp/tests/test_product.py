"""The ETP is a product of its own on the platform (docs/decisions/0036-the-etp-as-a-second-
product.md): its settings install none of AIPS's apps (and AIPS's none of the ETP's), its
permission table is closed, every page and operation declares a permission, its sign-in page
carries the cyber-hygiene notice under its own branding (R57.26.1, R57.26.4), its API documents
itself at /api/v1/openapi.json (committed as docs/openapi-etp.json), and the import contract
keeps the two products apart."""

import importlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aips.api_etp import api
from aips.core.access import PUBLIC, actor_perms
from aips.core.management.commands.export_openapi import openapi_text
from aips.core.permissions import Perm, active_table
from aips.etp.permissions import PLATFORM, ROLE_PERMISSIONS, EtpPerm, EtpRole
from aips.shared.accounts.models import User

REPO = Path(__file__).resolve().parents[4]
PACKAGE = REPO / "src" / "aips"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
AIPS_ONLY = {"incident:view", "alert:view", "request:view", "signal:view", "integration:view"}


# --- the product and its settings ----------------------------------------------------------------


def test_etp_settings_install_no_aips_app_and_aips_settings_no_etp_app() -> None:
    aips_settings = importlib.import_module("aips.settings")
    assert settings.AIPS_PRODUCT == "etp"
    assert not [app for app in settings.INSTALLED_APPS if app.startswith("aips.center")]
    assert "aips.etp.portal" in settings.INSTALLED_APPS
    assert not [app for app in aips_settings.INSTALLED_APPS if app.startswith("aips.etp")]
    # Its own address, database, cookies and files beside AIPS's.
    assert settings.AIPS_BIND != aips_settings.AIPS_BIND
    assert settings.SESSION_COOKIE_NAME != aips_settings.SESSION_COOKIE_NAME
    assert settings.CSRF_COOKIE_NAME != aips_settings.CSRF_COOKIE_NAME
    assert settings.ROOT_URLCONF == "aips.urls_etp"
    assert settings.AIPS_AUDIT_ANCHOR_FILE != aips_settings.AIPS_AUDIT_ANCHOR_FILE
    # The notifications outbox stays the last app, so its job runs after the others'.
    assert settings.INSTALLED_APPS[-1] == "aips.shared.notifications"


def test_every_etp_app_says_what_it_is_for() -> None:
    apps = [name for name in settings.INSTALLED_APPS if name.startswith("aips.etp.")]
    assert apps
    for name in [*apps, "aips.etp"]:
        assert len((importlib.import_module(name).__doc__ or "").split()) >= 12, name


# --- permissions (R57.5) -------------------------------------------------------------------------


def test_r57_5_the_etp_reads_its_own_permission_table() -> None:
    table = active_table()
    assert table.roles is EtpRole
    assert set(ROLE_PERMISSIONS) == set(EtpRole)
    granted: set[str] = set().union(*ROLE_PERMISSIONS.values())
    # Every ETP permission is someone's; nothing beyond the ETP's list and the platform's part.
    assert set(EtpPerm) <= granted
    assert granted <= set(EtpPerm) | set(PLATFORM)
    assert not granted & AIPS_ONLY
    assert table.cross_tenant_roles == {r for r in EtpRole if r.startswith("operator_")}


def test_r57_5_undeclared_or_aips_role_gets_nothing_on_the_etp() -> None:
    class Ghost:
        is_authenticated = True
        is_active = True
        role = "center_admin"  # a role of AIPS, not of the ETP

    assert actor_perms(Ghost()) == frozenset()  # type: ignore[arg-type]


def test_r57_5_the_auditor_reads_and_changes_nothing(personas: dict[str, User]) -> None:
    perms = actor_perms(personas["operator_auditor"])
    assert Perm.AUDIT_VIEW in perms
    assert not perms & {
        Perm.USER_CREATE,
        Perm.USER_UPDATE,
        Perm.USER_SECURITY,
        EtpPerm.LOT_EDIT,
        EtpPerm.LOT_APPROVE,
        EtpPerm.LOT_VERIFY,
        EtpPerm.PARTICIPANT_ADMIT,
        EtpPerm.DEPOSIT_CONFIRM,
        EtpPerm.AUCTION_RUN,
        EtpPerm.COMPLAINT_ANSWER,
    }


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


def test_r57_5_every_etp_page_and_operation_declares_a_permission() -> None:
    declared = set(Perm) | set(EtpPerm) | {PUBLIC}
    undeclared = [
        name
        for name, view in _web_views()
        if getattr(view, "aips_permission", None) not in declared
    ]
    assert not undeclared, undeclared
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                if getattr(operation.view_func, "aips_permission", None) == PUBLIC:
                    continue
                perms = {getattr(cb, "perm", "missing") for cb in operation.auth_callbacks}
                assert operation.auth_callbacks, path
                assert perms <= declared, (path, perms)


def test_r57_5_roles_stay_in_their_kind_of_organization(
    personas: dict[str, User], orgs: dict[str, Any]
) -> None:
    """A seller's role in a participant's organization, a participant's role in a bank, an
    operator role outside the operator: each refused by the platform's account service."""
    from aips.core.actors import SystemActor
    from aips.core.errors import ValidationFailed
    from aips.shared.accounts import services

    actor = SystemActor(label="test")
    for role, org in (
        (EtpRole.SELLER_MAKER, "company_1"),
        (EtpRole.PARTICIPANT, "seller_a"),
        (EtpRole.OPERATOR_VERIFIER, "seller_b"),
        (EtpRole.SELLER_SIGNATORY, "operator"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            services.user_create(
                actor=actor,
                email=f"{role}.{org}@example.kz",
                surname="Test",
                given_name="Person",
                patronymic="",
                position="Tester",
                organization_id=orgs[org].pk,
                phones=["8 701 123 45 67"],
                role=role,
                language="en",
            )
        assert "role" in refused.value.fields, (role, org)


def test_r57_5_the_operator_sees_every_tenant_and_a_participant_only_themselves(
    personas: dict[str, User], orgs: dict[str, Any]
) -> None:
    """An individual participant is an organization of one (its BIN field holds the IIN), so the
    platform's tenant isolation keeps participants apart with nothing new."""
    from aips.shared.organizations.models import Organization

    operator = personas["operator_admin"]
    assert operator.is_center
    assert operator.organization.is_center
    assert Organization.objects.visible_to(operator).count() == len(orgs)
    person_1 = personas["participant_person_1"]
    assert orgs["person_1"].kind == "participant_individual"
    assert orgs["person_1"].bin == "850101300124"
    assert not person_1.is_center
    for viewer, own in (
        (person_1, "person_1"),
        (personas["participant_person_2"], "person_2"),
        (personas["seller_a_signatory"], "seller_a"),
    ):
        assert list(User.objects.visible_to(viewer).values_list("organization_id", flat=True))
        assert set(User.objects.visible_to(viewer).values_list("organization_id", flat=True)) == {
            orgs[own].pk
        }


def test_r57_5_there_is_one_operator(personas: dict[str, User]) -> None:
    from aips.core.actors import SystemActor
    from aips.core.errors import ValidationFailed
    from aips.shared.organizations import services

    for kind in ("operator", "center"):  # a second operator, or AIPS's center on the ETP
        with pytest.raises(ValidationFailed) as refused:
            services.organization_create(
                actor=SystemActor(label="test"),
                name="Another operator",
                bin="990840001239",
                email="other@example.kz",
                kind=kind,
            )
        assert "kind" in refused.value.fields


# --- the sign-in page and the frame (R57.26) -----------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_r57_26_4_etp_sign_in_page_carries_the_cyber_hygiene_notice(
    db: None, language: str
) -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE=language).get("/login/").content.decode()
    assert 'id="cyber-hygiene"' in html
    assert f'<html lang="{language}">' in html
    assert "https://etp.example.kz" in html


def test_r57_26_1_etp_pages_show_the_etp_branding_not_aips(
    client_as: Callable[[str | None], Client],
) -> None:
    for client, path in (
        (Client(), "/login/"),
        (Client(), "/"),
        (client_as("seller_a_maker"), "/workspace/"),
    ):
        html = client.get(path).content.decode()
        for present in ("etp/logo.svg", "etp/etp.css", 'id="public-contacts"', "etp.example.kz"):
            assert present in html, (path, present)
        assert "The only official address of the ETP is https://etp.example.kz" in html, path
        for absent in ("aips/logo.svg", "AIPS"):
            assert absent not in html, (path, absent)
        assert 'class="search-box"' not in html, path
    login = Client().get("/login/").content.decode()
    assert "<h1>Sign in to the ETP</h1>" in login
    assert "not even the operator's staff" in login


def test_the_etp_menu_has_no_aips_items(client_as: Callable[[str | None], Client]) -> None:
    html = client_as("operator_admin").get("/workspace/").content.decode()
    for href in ('href="/workspace/"', 'href="/"', 'href="/users/"', 'href="/audit/"'):
        assert href in html, href
    for aips_path in ("/incidents/", "/alerts/", "/requests/", "/signals/", "/organizations/"):
        assert aips_path not in html, aips_path
    participant = client_as("participant_person_1").get("/workspace/").content.decode()
    assert 'href="/users/"' not in participant
    assert 'href="/audit/"' not in participant


# --- the API -------------------------------------------------------------------------------------


def test_r57_18_etp_openapi_is_served_and_committed_without_drift(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "ETP API"
    assert "/api/v1/me" in schema["paths"]
    assert not [p for p in schema["paths"] if p.startswith(("/api/v1/incidents", "/api/v1/alerts"))]
    committed = (REPO / "docs" / "openapi-etp.json").read_text()
    assert committed == openapi_text(), "run `make openapi` and commit docs/openapi-etp.json"


def test_r57_28_2_every_etp_operation_documents_its_errors() -> None:
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {int(code) for code in operation["responses"] if int(code) >= 400}
            assert 429 in errors, (method, path)
            if operation.get("security"):
                assert {401, 403} <= errors, (method, path)


# --- the demo and the import contract ------------------------------------------------------------


def test_etp_demo_load_prints_the_sign_ins(personas: dict[str, User]) -> None:
    out = io.StringIO()
    call_command("demo", "load", stdout=out)
    text = out.getvalue()
    assert "ETP demo sign-ins" in text
    assert "admin@etp.example.kz" in text
    assert "Etp-Admin-2026" in text
    assert User.objects.filter(email="admin@etp.example.kz").count() == 1


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            str(LINT_IMPORTS),
            "--no-cache",
            "--no-logo",
            "--contract",
            "products-apart",
            "--contract",
            "layers",
            str(REPO / "pyproject.toml"),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="needs import-linter")
def test_import_contract_keeps_aips_and_the_etp_apart(tmp_path: Path) -> None:
    assert _lint_imports(PACKAGE.parent).returncode == 0
    shutil.copytree(
        PACKAGE,
        tmp_path / "aips",
        ignore=lambda d, names: [
            n
            for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not Path(d, n).is_dir())
        ],
    )
    views = tmp_path / "aips" / "etp" / "portal" / "views.py"
    views.write_text(views.read_text() + "\nimport aips.center.incidents.models  # the wrong way\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "aips.etp.portal.views -> aips.center.incidents.models" in result.stdout


def test_etp_command_runs_on_the_etp_settings_whatever_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import django.core.management

    from aips.__main__ import main_etp

    seen: list[str] = []
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "aips.settings")
    monkeypatch.setattr(
        django.core.management,
        "execute_from_command_line",
        lambda argv: seen.append(os.environ["DJANGO_SETTINGS_MODULE"]),
    )
    main_etp()
    assert seen == ["aips.settings_etp"]


def test_etp_serve_binds_the_etp_address_with_the_etp_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        started.append(argv)

    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.delenv("AIPS_TLS_CERT", raising=False)
    monkeypatch.delenv("AIPS_TLS_KEY", raising=False)
    out = io.StringIO()
    call_command("serve", stdout=out)
    (argv,) = started
    assert argv[argv.index("--bind") + 1] == settings.AIPS_BIND == "127.0.0.1:8001"
    assert argv[argv.index("--env") + 1] == "DJANGO_SETTINGS_MODULE=aips.settings_etp"
    assert out.getvalue().startswith("ETP is serving at http://localhost:8001/")
