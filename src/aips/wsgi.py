import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
django_application = get_wsgi_application()

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _application() -> WsgiApp:
    # AIPS: `POST /api/v1/signals` goes to the signal ingest application in front of Django
    # (aips.center.signals.ingest_wsgi); the ETP, which has no signals, is Django alone.
    from django.apps import apps

    if not apps.is_installed("aips.center.signals"):
        return django_application
    from aips.center.signals.ingest_wsgi import dispatcher

    return dispatcher(django_application)


application = _application()
