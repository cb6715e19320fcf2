import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve AIPS with gunicorn at AIPS_BIND (static files via whitenoise)."

    def handle(self, *args: Any, **options: Any) -> None:
        workers = os.environ.get("AIPS_WORKERS", "2")
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "aips.wsgi:application",
            "--bind",
            settings.AIPS_BIND,
            "--workers",
            workers,
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("AIPS_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        self.stdout.write(f"AIPS is serving at http://{settings.AIPS_BIND}/ (Ctrl-C stops it)")
        self.stdout.flush()
        # exec: gunicorn becomes this process, so Ctrl-C and service managers reach it directly.
        os.execv(sys.executable, argv)  # noqa: S606 - fixed argv, no shell
