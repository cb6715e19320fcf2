import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


def openapi_text() -> str:
    """The schema of this deployment's API (settings.AIPS_API, loaded by name: the core imports
    no product), as committed: docs/openapi.json (AIPS), docs/openapi-etp.json (the ETP)."""
    api = import_string(settings.AIPS_API)
    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print the API's OpenAPI schema (committed as docs/openapi.json, docs/openapi-etp.json)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(openapi_text(), ending="")
