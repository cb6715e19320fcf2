"""Test personas: the demo dataset's people, in the center and two banks (plus an MFO)."""

from collections.abc import Callable

import pytest
from django.test import Client

from aips.accounts.models import User
from aips.organizations.models import Organization


@pytest.fixture(autouse=True)
def _fast_hashing(settings: pytest.FixtureRequest) -> None:
    # Argon2 is for production; tests only need a hasher that works.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    # Assertions read English messages; tests of other languages ask for them explicitly.
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]
    # Tests do not run collectstatic; serve and reference files by their plain names.
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def personas(db: None) -> dict[str, User]:
    """center_admin, center_analyst, auditor, bank_a_head, bank_a_maker, bank_a_viewer,
    bank_b_head, bank_b_maker, mfo_head."""
    from aips.demo import load_demo

    return load_demo()


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
        return client

    return make
