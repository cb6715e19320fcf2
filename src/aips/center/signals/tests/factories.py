"""Signals made the way modules make them (through signals_ingest), for the explorer, the
correlation and the authorization matrix."""

import json
from datetime import datetime
from typing import Any

from aips.center.integrations.models import ModuleActor
from aips.center.signals.tests.conftest import make_module, signal


def module_actor(organization: Any, name: str = "agent-1") -> ModuleActor:
    """An integration module of `organization`, as its token authenticates it."""
    from aips.center.integrations.services import module_authenticate

    _module, token = make_module(organization, name)
    actor = module_authenticate(token=token)
    assert actor is not None
    return actor


def ingest(actor: ModuleActor, items: list[dict[str, Any]]) -> Any:
    from aips.center.signals.services import signals_ingest

    result = signals_ingest(actor=actor, body=json.dumps(items).encode())
    assert result.rejected == 0, [r.errors for r in result.items if r.errors]
    return result


def at(when: datetime) -> str:
    return when.isoformat()


__all__ = ["at", "ingest", "module_actor", "signal"]
