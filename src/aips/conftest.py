"""Test personas: the demo dataset's people, in the center and two banks (plus an MFO).

The test world is built once per session: before the first test that asks for it (through
`personas`, `orgs`, `client_as`, `matrix_objects`), the demo organizations and people are
committed to the test database, and every test runs in a transaction rolled back at its end.
Tests that do not ask for the world run first, on an empty database. A test on a real
transaction (`transactional_db`, `live_server`) ends with Django emptying every table; the
world is built again right after that flush. The rules for test authors: `personas` and
`matrix_objects` below.

Two products, two sessions: under AIPS's settings `src/aips/etp` is not collected; under the
ETP's (`--ds=aips.settings_etp`) only `src/aips/etp` is, and `aips/etp/conftest.py` supplies the
ETP's world through the same fixtures (`world_loader`, `matrix_builder`)."""

import copy
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client, TransactionTestCase, override_settings

from aips.core.access import REAUTH_SESSION_KEY
from aips.shared.accounts.models import User
from aips.shared.organizations.models import Organization

# Persona key -> user id of the session's world (filled once the test database exists).
_world: dict[str, int] = {}

# Each product's tests run in their own session, on their own settings (Makefile: test-sqlite).
_HERE = Path(__file__).resolve().parent
if getattr(django_settings, "AIPS_PRODUCT", "aips") == "etp":
    collect_ignore = [p.name for p in _HERE.iterdir() if p.is_dir() and p.name != "etp"]
else:
    collect_ignore = ["etp"]

WorldLoader = Callable[[], Mapping[str, User]]


def _test_settings(scratch: Path) -> dict[str, Any]:
    """The settings every test runs under; the world is built under the same ones."""
    (scratch / "attachments").mkdir(exist_ok=True)
    (scratch / "anchor").mkdir(exist_ok=True)
    return {
        # Argon2 is for production; tests only need a hasher that works.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Assertions read English messages; tests of other languages ask for them explicitly.
        "LANGUAGE_CODE": "en",
        "AIPS_ATTACHMENT_DIR": str(scratch / "attachments"),
        # Each test gets its own anchor of the journal (audit/anchor.py).
        "AIPS_AUDIT_ANCHOR_FILE": str(scratch / "anchor" / "anchor.jsonl"),
        # Signal sightings and rollups are counted right after every batch (not by the worker), so
        # tests can read them at once; signals/tests/test_derive.py turns this off.
        "AIPS_SIGNAL_DERIVE_INLINE": True,
        # The test database is SQLite in memory (shared cache: a locked table fails at once
        # rather than waiting); the writer thread is tested on a real server instead
        # (signals/tests/test_sqlite_writer.py).
        "AIPS_SIGNAL_SQLITE_WRITER": False,
        # Work deferred past a request's answer (core.deferred) runs at once, so tests see it.
        "AIPS_DEFER_INLINE": True,
        # No ClamAV unless a test starts its own (files/tests/test_antivirus.py).
        "AIPS_CLAMD_SOCKET": "",
        "AIPS_CLAMD_ADDRESS": "",
        # Tests do not run collectstatic; serve and reference files by their plain names.
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


def _load_aips_world() -> Mapping[str, User]:
    from aips.demo import load_demo

    ensure_threat_types()
    return load_demo()


@pytest.fixture(scope="session")
def world_loader() -> WorldLoader:
    """What builds the session's world: AIPS's demo people (the ETP's conftest overrides it)."""
    return _load_aips_world


def _build_world(scratch: Path, loader: WorldLoader) -> None:
    """Commit the demo organizations and people (and the seeds a flush removed)."""
    with override_settings(**_test_settings(scratch)):
        users = loader()
    _world.clear()
    _world.update({key: user.pk for key, user in users.items()})


def _rebuild_after_flush(original: Any, scratch: Path, loader: WorldLoader) -> Any:
    def _fixture_teardown(self: TransactionTestCase) -> None:
        original(self)
        _build_world(scratch, loader)

    return _fixture_teardown


def _world_personas() -> dict[str, User]:
    users = User.objects.select_related("organization").in_bulk(_world.values())
    return {key: users[pk] for key, pk in _world.items()}


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Any:
    """pytest-django's own on SQLite; on PostgreSQL the test database is made, migrated and used
    under the documented owner and application roles (core/tests/pg_roles.py)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    keepdb = django_db_keepdb and not django_db_createdb
    if connection.vendor == "postgresql":
        from aips.core.tests import pg_roles

        with django_db_blocker.unblock():
            steps = pg_roles.run(verbosity=verbosity, keepdb=keepdb)
            next(steps)
        yield
        with django_db_blocker.unblock():
            next(steps, None)
        return
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=verbosity, interactive=False, keepdb=keepdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(scope="session")
def _world_committed(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    world_loader: WorldLoader,
) -> Iterator[None]:
    """The world, committed once, before the first test that asks for it (the tests that do not
    run first, on the empty database they always had: pytest_collection_modifyitems below);
    rebuilt after each flush of a test on a real transaction."""
    from django.db import connection

    if connection.in_atomic_block:
        raise RuntimeError(
            "the test world was first asked for inside a test's transaction: request `personas` "
            "as an argument (or through a fixture's), not with request.getfixturevalue()"
        )
    scratch = tmp_path_factory.mktemp("world")
    with django_db_blocker.unblock():
        _build_world(scratch, world_loader)
    # Django's private hook for that flush (core/tests/pg_roles.py wraps it too, for the owner
    # role); TestCase overrides it with a rollback, so only the transactional tests reach this.
    original = getattr(TransactionTestCase, "_fixture_teardown")  # noqa: B009
    setattr(  # noqa: B010
        TransactionTestCase,
        "_fixture_teardown",
        _rebuild_after_flush(original, scratch, world_loader),
    )
    try:
        yield
    finally:
        setattr(TransactionTestCase, "_fixture_teardown", original)  # noqa: B010
        _world.clear()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests without the world first, then those with it (a stable sort: the order within
    each group, and pytest's grouping by module, stay)."""
    items.sort(key=lambda item: "_world_committed" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def _uploads_scanned_clean() -> Iterator[None]:
    """Files stored by tests that are not about anti-virus count as scanned clean, so they can
    be downloaded without a ClamAV daemon; the R57.12 tests put "pending" back and scan for
    real (shared/files/tests/test_antivirus.py)."""
    from aips.shared.files import services as file_services

    with mock.patch.object(file_services, "_first_status", return_value="clean"):
        yield


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name, value in _test_settings(tmp_path_factory.mktemp("test")).items():
        setattr(settings, name, value)


@pytest.fixture
def personas(_world_committed: None, db: None) -> dict[str, User]:
    """center_admin, center_analyst, auditor, bank_a_head, bank_a_maker, bank_a_viewer,
    bank_b_head, bank_b_maker, mfo_head.

    The session's world, read afresh for each test: a change a test saves is rolled back at its
    end, and a change it makes only in memory dies with these instances."""
    return _world_personas()


@pytest.fixture
def orgs(personas: dict[str, User]) -> dict[str, Organization]:
    return {
        "center": personas["center_admin"].organization,
        "bank_a": personas["bank_a_head"].organization,
        "bank_b": personas["bank_b_head"].organization,
        "mfo": personas["mfo_head"].organization,
    }


@pytest.fixture
def client_as(personas: dict[str, User]) -> Callable[[str | None], Client]:
    """A logged-in test client for a persona key (None = anonymous), in English."""

    def make(key: str | None) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.cookies["aips_language"] = "en"
        if key is not None:
            client.force_login(personas[key])
            # As if both factors had just been entered: sensitive pages open without re-auth.
            session = client.session
            session[REAUTH_SESSION_KEY] = time.time()
            session.save()
        return client

    return make


@pytest.fixture(scope="session")
def matrix_builder() -> Callable[[dict[str, User]], dict[str, Any]]:
    """What builds the authorization matrix's objects from the personas: AIPS's bank A objects
    (the ETP's conftest overrides it)."""
    return _build_matrix_objects


@pytest.fixture(scope="module")
def _matrix_layer(
    _world_committed: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    matrix_builder: Callable[[dict[str, User]], dict[str, Any]],
) -> Iterator[tuple[dict[str, Any], Path]]:
    """The matrix objects, built once for a module that asks for them (`pytestmark =
    pytest.mark.usefixtures("_matrix_layer")`) inside a transaction that is never committed:
    each test of the module runs in a savepoint within it, and the module's end rolls it back.
    Such a module must not hold a test on a real transaction (its flush would run inside)."""
    scratch = tmp_path_factory.mktemp("matrix")
    with django_db_blocker.unblock():
        layer = transaction.atomic()
        layer.__enter__()
        try:
            with override_settings(**_test_settings(scratch)):
                objects = matrix_builder(_world_personas())
        except BaseException:
            transaction.set_rollback(True)
            layer.__exit__(None, None, None)
            raise
    try:
        yield objects, scratch
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            layer.__exit__(None, None, None)


@pytest.fixture
def matrix_objects(
    request: pytest.FixtureRequest,
    personas: dict[str, User],
    settings: Any,
    matrix_builder: Callable[[dict[str, User]], dict[str, Any]],
) -> dict[str, Any]:
    """Bank A's objects that the authorization matrix requests as every persona: the module's
    shared layer when it has one (fresh copies of its instances, fresh personas), else built
    for this test."""
    if "_matrix_layer" not in request.fixturenames:
        return matrix_builder(personas)
    objects, scratch = request.getfixturevalue("_matrix_layer")
    # The layer's attachment files live in its own directory.
    settings.AIPS_ATTACHMENT_DIR = _test_settings(scratch)["AIPS_ATTACHMENT_DIR"]
    return {**copy.deepcopy(objects), **personas}


def _build_matrix_objects(personas: dict[str, User]) -> dict[str, Any]:
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from aips.shared.accounts import services as account_services
    from aips.shared.accounts.models import UserSession

    token, _raw = account_services.token_create(actor=personas["bank_a_maker"], name="ci")
    request = account_services.user_request_create(
        actor=personas["bank_a_head"],
        email="new.colleague@alataubank.example.kz",
        surname="Zhaksylykov",
        given_name="Nurlan",
        position="SOC engineer",
        phones=["8 701 555 44 33"],
        role="org_responsible",
    )
    maker_device = TOTPDevice.objects.get(user=personas["bank_a_maker"])
    # A signed-in browser of the maker's, as sign_in() would have recorded it.
    maker_session = UserSession.objects.create(
        user=personas["bank_a_maker"], session_key="k" * 32, last_seen_at=timezone.now()
    )
    card, attachment = submitted_card(personas)
    # Alerts: the center's TLP:GREEN alert published to every organization (bank A and bank B
    # each hold a recipient row), and bank A's own draft, which nobody else may reach.
    published = published_alert(personas)
    from aips.center.alerts import selectors as alert_selectors
    from aips.center.alerts import services as alert_services

    alert_recipient = alert_selectors.recipient_for(personas["bank_a_head"], published)
    assert alert_recipient is not None
    draft_alert = alert_services.alert_create(
        actor=personas["bank_a_maker"], **alert_data(title="Bank A's own draft alert")
    )
    from aips.center.inquiries.tests.matrix_rows import matrix_objects as inquiry_objects
    from aips.center.integrations.tests.matrix_rows import matrix_objects as integration_objects
    from aips.center.signals.tests.matrix_rows import matrix_objects as signal_objects
    from aips.shared.workflow.tests.matrix_rows import matrix_objects as eds_approval_objects

    return {
        **personas,
        **inquiry_objects(personas),
        **signal_objects(personas),
        **integration_objects(personas),
        **eds_approval_objects(personas),
        "bank_a": personas["bank_a_head"].organization,
        "token": token,
        "request": request,
        "maker_device": maker_device,
        "maker_session": maker_session,
        "card": card,
        "attachment": attachment,
        "alert": draft_alert,
        "published_alert": published,
        "alert_recipient": alert_recipient,
    }


def card_data(**overrides: Any) -> dict[str, Any]:
    """A complete incident card (R67.12 type 2) as the maker would fill it in."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    data: dict[str, Any] = {
        "kind": "unauthorized_access",
        "title": "Unauthorized access to the card processing system",
        "detected_at": now - timedelta(hours=2),
        "started_at": now - timedelta(hours=5),
        "affected_systems": "Card processing front end",
        "impact": "Exposure of operator accounts",
        "measures": "Accounts blocked, passwords rotated",
        "tlp": "AMBER",
        "indicators": ["203.0.113.7", "evil.example.com"],
    }
    data.update(overrides)
    return data


def submitted_card(personas: dict[str, User]) -> tuple[Any, Any]:
    """Bank A's card, made by its maker and approved by its head: the center can see it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.center.incidents import services as incident_services

    card = incident_services.card_create(actor=personas["bank_a_maker"], **card_data())
    attachment = incident_services.attachment_add(
        actor=personas["bank_a_maker"],
        card=card,
        upload=SimpleUploadedFile("ids-alert.txt", b"alert tcp any any", "text/plain"),
    )
    incident_services.card_transition(
        actor=personas["bank_a_maker"], card=card, name="request_approval"
    )
    card = incident_services.card_transition(
        actor=personas["bank_a_head"], card=card, name="approve"
    )
    return card, attachment


def ensure_threat_types() -> None:
    """The threat-type list is seeded by a data migration; a test on a real transaction (the
    browser tests) empties every table at its end, so later tests seed it again."""
    import importlib

    from django.apps import apps

    from aips.center.alerts.selectors import threat_types

    if not threat_types():
        importlib.import_module("aips.center.alerts.migrations.0002_threat_types").seed(apps, None)


def alert_data(**overrides: Any) -> dict[str, Any]:
    """A complete threat alert (R67.3.3) as its author would fill it in."""
    from aips.center.alerts.selectors import threat_types

    ensure_threat_types()
    malware = next(t for t in threat_types() if t.code == "malicious-code")
    data: dict[str, Any] = {
        "kind": "threat",
        "title": "Ransomware campaign against internet-banking operators",
        "source": "CERT-KZ",
        "threat_type_id": malware.pk,
        "level": "high",
        "tlp": "GREEN",
        "description": "Phishing e-mails with a macro dropper target bank operators.",
        "recommendations": "Block the indicators and disable Office macros from the internet.",
        "indicators": ["203.0.113.66", "invoice-kz.example.com"],
    }
    data.update(overrides)
    return data


def published_alert(personas: dict[str, User], **overrides: Any) -> Any:
    """The center's own alert, published directly (TLP:GREEN: to every active organization)."""
    from aips.center.alerts import services as alert_services

    analyst = personas["center_analyst"]
    alert = alert_services.alert_create(actor=analyst, **alert_data(**overrides))
    return alert_services.alert_transition(actor=analyst, alert=alert, name="publish_direct")


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for `python -m aips …` run as a separate process by a test: nothing of the
    caller's AIPS_* leaks in; in particular AIPS_DATABASE_URL is empty, so the process uses SQLite
    in its own data dir on the PostgreSQL test run too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIPS_")}
    env.update({"AIPS_DATA_DIR": str(data_dir), "AIPS_DATABASE_URL": "", **extra})
    return env


def totp_code(user: User, *, step_offset: int = 0) -> str:
    """The authenticator app's current code for a user's (first) TOTP device."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    assert device is not None, f"{user.email} has no authenticator"
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + step_offset)
    return f"{code:06d}"


def sign_in(client: Client, email: str, password: str, user: User) -> Any:
    """The real two-step sign-in: password, then a TOTP code."""
    first = client.post("/login/", {"email": email, "password": password})
    assert first.status_code == 302, first.status_code
    assert first["Location"] == "/login/verify/", first["Location"]
    return client.post("/login/verify/", {"code": totp_code(user)})


@pytest.fixture(autouse=True)
def _audit_journal_flushable(request: pytest.FixtureRequest) -> Any:
    """Tests on a real transaction (the browser tests' live server) end with Django emptying
    every table; the journal and the biometric check records refuse DELETE, so lift their guards
    for that moment only."""
    if not {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    from django.db import connection

    from aips.core.tests.pg_roles import owner_role
    from aips.shared.audit.db import APPEND_ONLY, CONTENT, install_guards, remove_guards
    from aips.shared.biometrics import db as biometrics_db

    # On PostgreSQL the flush that follows runs as the owner too (core/tests/pg_roles.py).
    with owner_role():
        remove_guards(connection)
        biometrics_db.remove_guards(connection)  # the check records are immutable too
        with connection.cursor() as cursor:
            for table in [CONTENT, *APPEND_ONLY, "audit_audithead", biometrics_db.CHECKS]:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        install_guards(connection)
        biometrics_db.install_guards(connection)
