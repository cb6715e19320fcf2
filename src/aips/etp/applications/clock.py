"""The server's clock for deadlines: one seam, patched in tests (`clock.now`)."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
