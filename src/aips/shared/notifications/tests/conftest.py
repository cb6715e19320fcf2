from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _people_read_english(request: pytest.FixtureRequest) -> None:
    """Notifications are written in each recipient's language; these tests read them in
    English, so the demo people (who prefer kk/ru) switch for the test."""
    if "personas" not in request.fixturenames:
        return
    request.getfixturevalue("personas")
    from aips.shared.accounts.models import User

    User.objects.update(language="en")
    personas: dict[str, Any] = request.getfixturevalue("personas")
    for person in personas.values():
        person.language = "en"
