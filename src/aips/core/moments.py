"""Moments that come in through the API (R57.28.4) are normalized to UTC before anything reads
them. A JSON date-time may carry any offset up to ±23:59 and any year from 1 to 9999, but
PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement out of range") and a moment
near year 1 or 9999 cannot be shifted to UTC in Python (OverflowError): both were a 5xx. In
UTC every moment the database can hold is accepted, and the others are a field error."""

from datetime import UTC, datetime
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AfterValidator


def in_utc(value: datetime) -> datetime:
    # A moment without an offset is read in the server's time zone, as Django would read it.
    aware = timezone.make_aware(value) if timezone.is_naive(value) else value
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("This moment is outside the years 1 to 9999 in UTC.")) from None


Moment = Annotated[datetime, AfterValidator(in_utc)]
