"""One way to show a moment on every main page: "05.12.2026 14:30 (Almaty)", in Almaty time
with the zone named, in every language (aips.core.templatetags.aips_format)."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from aips.conftest import published_alert
from aips.core.templatetags.aips_format import when_text
from aips.shared.accounts.models import User
from aips.shared.notifications.models import Notification

MOMENT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)  # 14:30 in Almaty (UTC+5)
SHOWN = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d \((Almaty|Алматы)\)")


def test_when_is_almaty_time_with_the_zone_named() -> None:
    with translation.override("en"):
        assert when_text(MOMENT) == "05.12.2026 14:30 (Almaty)"
        assert when_text(MOMENT, "seconds") == "05.12.2026 14:30:00 (Almaty)"
        assert when_text(MOMENT, "date") == "05.12.2026"
        assert when_text(date(2026, 12, 5)) == "05.12.2026"
        assert when_text(None) == "—"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_when_has_one_format_in_every_language(language: str) -> None:
    with translation.override(language):
        shown = Template("{% load aips_format %}{{ value|when }}").render(
            Context({"value": MOMENT})
        )
    # The zone's name is translated (by the lead's merge of the i18n fragments); the rest is one
    # pattern whatever the language.
    assert re.fullmatch(r"05\.12\.2026 14:30 \((Almaty|Алматы)\)", shown), shown


def test_main_pages_show_moments_one_way(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    alert = published_alert(personas)
    Notification.objects.create(user=personas["bank_a_head"], kind="t", text="Hello")
    client = client_as("bank_a_head")
    for url in ("/alerts/", f"/alerts/{alert.pk}/", "/notifications/"):
        page = client.get(url).content.decode()
        published = timezone.localtime(alert.published_at).strftime("%d.%m.%Y %H:%M")
        assert SHOWN.search(page), url
        if url.startswith("/alerts/"):
            assert f"{published} (Almaty)" in page, url
