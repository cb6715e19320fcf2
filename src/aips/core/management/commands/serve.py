import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from aips.env import env_int, env_str


def tls_files() -> tuple[Path, Path] | None:
    """The certificate chain and key from AIPS_TLS_CERT / AIPS_TLS_KEY, or None for plain HTTP.

    Both or neither: half a TLS configuration is refused rather than silently served as HTTP.
    """
    cert, key = env_str("AIPS_TLS_CERT").strip(), env_str("AIPS_TLS_KEY").strip()
    if not cert and not key:
        return None
    if not cert or not key:
        raise CommandError("AIPS_TLS_CERT and AIPS_TLS_KEY must be set together (or neither)")
    paths = Path(cert), Path(key)
    for name, path in zip(("AIPS_TLS_CERT", "AIPS_TLS_KEY"), paths, strict=True):
        if not path.is_file() or not os.access(path, os.R_OK):
            raise CommandError(f"{name}={path} is not a readable file")
    return paths


def settings_module() -> str:
    # Under override_settings (tests) Django's holder forgets the name; the environment has it.
    return settings.SETTINGS_MODULE or os.environ["DJANGO_SETTINGS_MODULE"]


class Command(BaseCommand):
    help = (
        "Serve the product with gunicorn at its bind address (AIPS: AIPS_BIND, the ETP: "
        "AIPS_ETP_BIND; static files via whitenoise); HTTPS with TLS 1.2+ when AIPS_TLS_CERT "
        "and AIPS_TLS_KEY are set (R57.25)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # SQLite has one writer at a time: one process whose threads queue for it, so that the
        # signal writer (center/signals/sqlite_writer.py) groups every request's batches.
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        workers = env_int("AIPS_WORKERS", 1 if sqlite else 2, minimum=1)
        # Threads > 1 switch gunicorn to its gthread worker: keep-alive connections (agents send
        # batch after batch) and one process's threads overlapping their database waits.
        threads = env_int("AIPS_THREADS", 8 if sqlite else 1, minimum=1)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            # AIPS: a dispatcher, `POST /api/v1/signals` to the signal ingest application
            # (center/signals/ingest_wsgi.py) and everything else to Django; the ETP: Django.
            "aips.wsgi:application",
            # The workers load this command's settings (`etp serve`: the ETP's), whatever the
            # environment inherited.
            "--env",
            f"DJANGO_SETTINGS_MODULE={settings_module()}",
            "--bind",
            settings.AIPS_BIND,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            env_str("AIPS_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            # Gunicorn 25.1+ opens a management socket at one fixed per-user path
            # ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl): an extra control interface nobody
            # asked for, and two servers under one user unlink each other's socket.
            "--no-control-socket",
            # Hooks: no Server banner; with TLS, the 1.2 minimum and the cipher list.
            "--config",
            "python:aips.gunicorn_conf",
        ]
        scheme = "http"
        tls = tls_files()
        if tls is not None:
            cert, key = tls
            argv += ["--certfile", str(cert), "--keyfile", str(key)]
            scheme = "https"
        url = settings.AIPS_BASE_URL if scheme == "http" else f"https://{settings.AIPS_BIND}"
        with translation.override("en"):
            name = str(settings.AIPS_SITE_NAME)
        self.stdout.write(f"{name} is serving at {url}/ (Ctrl-C stops it)")
        self.stdout.flush()
        # exec: gunicorn becomes this process, so Ctrl-C and service managers reach it directly.
        os.execv(sys.executable, argv)  # noqa: S606 - fixed argv, no shell
