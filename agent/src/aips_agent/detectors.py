"""Edge detectors (R67.8.6–8): network scanning, brute force against one account and password
spraying from one source. Each keeps a sliding window per key (source or account) in bounded
memory: at most `max_keys` keys (the least recently seen are dropped first) and at most
`max_events` observations per key. When a key crosses its threshold the detector emits ONE
aggregated signal with counts — never the raw events — and stays quiet for that key for one
window; then it counts afresh.

Windows run on event time, so a replayed log is judged as it happened. The windows live in
memory: after a restart they start empty (the observations already read are not re-read)."""

import threading
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection

K = TypeVar("K")


def _rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


@dataclass
class Thresholds:
    enabled: bool = True
    window_seconds: float = 60.0
    threshold: int = 10  # brute force: failures; spraying: accounts; scan: ports
    threshold_hosts: int = 0  # scan only: distinct targets (0 = off)
    external_only: bool = True


class _Window:
    """Observations of one key within the window, with distinct-value counters."""

    __slots__ = ("events", "quiet_until", "values_a", "values_b")

    def __init__(self) -> None:
        self.events: deque[tuple[float, str | int | None, str | int | None, str | None]] = deque()
        self.values_a: Counter[str | int] = Counter()
        self.values_b: Counter[str | int] = Counter()
        self.quiet_until = 0.0

    def add(
        self, at: float, a: str | int | None, b: str | int | None, extra: str | None, cap: int
    ) -> None:
        self.events.append((at, a, b, extra))
        if a is not None:
            self.values_a[a] += 1
        if b is not None:
            self.values_b[b] += 1
        if len(self.events) > cap:
            self._pop()

    def _pop(self) -> None:
        _at, a, b, _extra = self.events.popleft()
        for counter, value in ((self.values_a, a), (self.values_b, b)):
            if value is None:
                continue
            counter[value] -= 1
            if counter[value] <= 0:
                del counter[value]

    def expire(self, before: float) -> None:
        while self.events and self.events[0][0] < before:
            self._pop()

    def clear(self) -> None:
        self.events.clear()
        self.values_a.clear()
        self.values_b.clear()


class _Keyed(Generic[K]):
    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.windows: OrderedDict[K, _Window] = OrderedDict()

    def get(self, key: K) -> _Window:
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = _Window()
            while len(self.windows) > self.max_keys:
                self.windows.popitem(last=False)
        else:
            self.windows.move_to_end(key)
        return window


class Detectors:
    """The three detectors, shared by every input (one lock: they are cheap)."""

    def __init__(
        self,
        *,
        scan: Thresholds,
        brute_force: Thresholds,
        spraying: Thresholds,
        networks: s.Networks,
        sensor: str | None = None,
        max_keys: int = 100_000,
        max_events: int = 10_000,
        max_list: int = 100,
    ) -> None:
        self.scan_cfg, self.brute_cfg, self.spray_cfg = scan, brute_force, spraying
        self.networks = networks
        self.sensor = sensor
        self.max_events = max_events
        self.max_list = max_list
        self._scan: _Keyed[str] = _Keyed(max_keys)
        self._brute: _Keyed[str] = _Keyed(max_keys)
        self._spray: _Keyed[str] = _Keyed(max_keys)
        self._lock = threading.Lock()
        self.emitted: Counter[str] = Counter()

    def observe(self, event: AuthFailure | Connection) -> list[s.Signal]:
        with self._lock:
            if isinstance(event, Connection):
                return self._observe_connection(event)
            return self._observe_auth(event)

    # R67.8.6: one source touching ≥ N ports or ≥ M hosts within T.
    def _observe_connection(self, event: Connection) -> list[s.Signal]:
        cfg = self.scan_cfg
        if not cfg.enabled:
            return []
        if cfg.external_only and self.networks.is_internal(event.src_ip):
            return []
        window = self._scan.get(event.src_ip)
        window.add(event.at, event.dst_port, event.dst_ip, event.protocol, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        if event.at < window.quiet_until:
            return []
        ports, hosts = len(window.values_a), len(window.values_b)
        if ports < cfg.threshold and not (cfg.threshold_hosts and hosts >= cfg.threshold_hosts):
            return []
        first, last = window.events[0][0], window.events[-1][0]
        protocols = {e[3] for e in window.events if e[3]}
        signal = s.ScanSignal(
            id=s.new_id(),
            observed_at=_rfc3339(last),
            product=event.product,
            vendor=event.vendor,
            sensor=self.sensor,
            severity="medium",
            rule_id="aips-agent:scan",
            rule_name=f"Network scan: {ports} ports, {hosts} hosts in {cfg.window_seconds:g}s",
            src_ip=event.src_ip,
            protocol=protocols.pop()[:16] if len(protocols) == 1 else None,
            direction=self.networks.direction(event.src_ip),
            count=len(window.events),
            first_seen=_rfc3339(first),
            last_seen=_rfc3339(last),
            ports=sorted(int(p) for p in window.values_a)[: self.max_list],
            targets=sorted(str(h) for h in window.values_b)[: self.max_list],
            port_count=ports,
            target_count=hosts,
        )
        self._quiet(window, event.at, cfg)
        self.emitted["scan"] += 1
        return [signal]

    def _observe_auth(self, event: AuthFailure) -> list[s.Signal]:
        external = event.src_ip is not None and not self.networks.is_internal(event.src_ip)
        account = event.account.strip().lower()
        found: list[s.Signal] = []
        found += self._brute_force(event, account, external)
        found += self._spraying(event, account, external)
        return found

    # R67.8.7: one account, ≥ N failures from external addresses within T.
    def _brute_force(self, event: AuthFailure, account: str, external: bool) -> list[s.Signal]:
        cfg = self.brute_cfg
        if not cfg.enabled or (cfg.external_only and not external):
            return []
        window = self._brute.get(account)
        window.add(event.at, event.src_ip, None, None, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        if event.at < window.quiet_until or len(window.events) < cfg.threshold:
            return []
        first, last = window.events[0][0], window.events[-1][0]
        sources = window.values_a.most_common()
        src = str(sources[0][0]) if sources else None
        attempts = len(window.events)
        signal = s.BruteForceSignal(
            id=s.new_id(),
            observed_at=_rfc3339(last),
            product=event.product,
            vendor=event.vendor,
            sensor=self.sensor,
            severity="high",
            rule_id="aips-agent:brute_force",
            rule_name=(
                f"Password guessing: {attempts} failures for one account from "
                f"{len(sources)} external addresses in {cfg.window_seconds:g}s"
            ),
            src_ip=src,
            direction="external" if external else self.networks.direction(src),
            count=attempts,
            first_seen=_rfc3339(first),
            last_seen=_rfc3339(last),
            target_account=event.account[:256],
            attempts=attempts,
        )
        self._quiet(window, event.at, cfg)
        self.emitted["brute_force"] += 1
        return [signal]

    # R67.8.8: one source across ≥ N accounts within T.
    def _spraying(self, event: AuthFailure, account: str, external: bool) -> list[s.Signal]:
        cfg = self.spray_cfg
        if not cfg.enabled or event.src_ip is None or (cfg.external_only and not external):
            return []
        window = self._spray.get(event.src_ip)
        window.add(event.at, account, None, None, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        accounts = len(window.values_a)
        if event.at < window.quiet_until or accounts < cfg.threshold:
            return []
        first, last = window.events[0][0], window.events[-1][0]
        attempts = len(window.events)
        signal = s.SprayingSignal(
            id=s.new_id(),
            observed_at=_rfc3339(last),
            product=event.product,
            vendor=event.vendor,
            sensor=self.sensor,
            severity="high",
            rule_id="aips-agent:spraying",
            rule_name=(
                f"Password spraying: {accounts} accounts from one address "
                f"in {cfg.window_seconds:g}s"
            ),
            src_ip=event.src_ip,
            direction=self.networks.direction(event.src_ip),
            count=attempts,
            first_seen=_rfc3339(first),
            last_seen=_rfc3339(last),
            accounts=sorted(str(a)[:256] for a in window.values_a)[: self.max_list],
            account_count=accounts,
            attempts=attempts,
        )
        self._quiet(window, event.at, cfg)
        self.emitted["spraying"] += 1
        return [signal]

    @staticmethod
    def _quiet(window: _Window, at: float, cfg: Thresholds) -> None:
        window.quiet_until = at + cfg.window_seconds
        window.clear()
