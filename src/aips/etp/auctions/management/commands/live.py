"""`etp live`: the live view's server-sent events (auctions/sse.py) under uvicorn at
AIPS_ETP_LIVE_BIND (default 127.0.0.1:8002). PostgreSQL only: on SQLite it says so and exits,
and the live page polls the state API."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from aips.env import env_str


class Command(BaseCommand):
    help = (
        "Serve the auctions' live events (server-sent events, PostgreSQL LISTEN/NOTIFY) with "
        "uvicorn at AIPS_ETP_LIVE_BIND (default 127.0.0.1:8002)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("etp live: the database is not PostgreSQL; the live page polls.")
            return
        import uvicorn

        bind = str(getattr(settings, "AIPS_ETP_LIVE_BIND", "127.0.0.1:8002"))
        host, _, port = bind.rpartition(":")
        self.stdout.write(f"ETP live events at http://{bind}/auctions/<id>/events")
        self.stdout.flush()
        uvicorn.run(
            "aips.etp.auctions.sse:application",
            factory=True,
            host=host.strip("[]") or "127.0.0.1",
            port=int(port),
            proxy_headers=True,
            forwarded_allow_ips=env_str("AIPS_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            server_header=False,
            log_level="info",
            # Streams stay open: a stop waits this long for them, then closes them.
            timeout_graceful_shutdown=3,
        )
