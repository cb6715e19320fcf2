"""Signal counts per module for the health pages. The counts live with the app that receives
the signals (aips.center.signals registers its source from its AppConfig.ready()): signals builds on
integrations, so integrations asks through this seam instead of importing signals."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

# module id -> accepted_1h, rejected_1h, accepted_24h, rejected_24h, duplicates_24h
PerModule = Callable[[list[int], datetime, datetime], dict[int, dict[str, int]]]
# hour -> (accepted, rejected, duplicates), from the given hour on
PerHour = Callable[[int, datetime], dict[datetime, tuple[int, int, int]]]


@dataclass(frozen=True)
class TrafficSource:
    per_module: PerModule  # (module ids, start of the last hour, start of the last 24 h)
    per_hour: PerHour  # (module id, first hour)


# Without a registered source (no signals app) every module shows no traffic.
_NONE = TrafficSource(per_module=lambda ids, h1, h24: {}, per_hour=lambda module_id, start: {})
_source = [_NONE]


def register_traffic(source: TrafficSource) -> None:
    _source[0] = source


def traffic() -> TrafficSource:
    return _source[0]
