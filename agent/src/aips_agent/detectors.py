"""Edge detectors (R67.8.6–8): network scanning, brute force against one account and password
spraying from one source. They turn many observations into a few aggregated signals, each
describing one whole **attack**; raw events never leave the agent.

Detection. Each key (scan and spraying: the source address; brute force: the account) has a
sliding window on event time, in bounded memory (at most `max_keys` keys, the least recently
seen dropped first; at most `max_events` observations per window). When a window crosses its
threshold the key's attack is *confirmed*: it starts with the oldest observation in the window.

Reports. One attack is reported under ONE signal id, in several reports, each a signal with that
id and a later `observed_at` (the server's key is (organization, id, observed_at), so each
report is stored; the one with the latest `observed_at` describes the attack as far as known):

- *early*, the moment the threshold is crossed, so the center learns at once;
- *update*, while it lasts, at most every `update_seconds` (0: none), so a week-long slow scan
  is not invisible until it ends;
- *final*, when it ends: no observation for `quiet_seconds`, `max_duration_seconds` reached
  (the attack goes on under a new id, already confirmed), its key dropped for room, or the
  agent stopping (`flush`).

Every report carries the attack's running totals — ports, targets, attempts, accounts, each
list up to the schema's bound of 1000 with the true number in `port_count`, `target_count`,
`account_count`, `attempts` — and `first_seen`/`last_seen` of the whole attack. Its `count`
is the number of observations that are new in this report, so the center's sums of `count`
(indicator sightings, correlation) count every observation once, however many reports there
were. `observed_at` is the attack's last event time, moved on by a microsecond when that is
not later than the previous report's, so no report is taken for a re-send.

Brute force and spraying are told apart (an observation is counted by one of them only):
brute force (R67.8.7) is one account failing ≥ `threshold` times in its window, from any
(external) sources; spraying (R67.8.8) is one source failing on ≥ `threshold` accounts in its
window, over the accounts that are NOT under brute force. When an account's brute force is
confirmed, that account and its attempts are taken out of the spraying tally of every source
in the brute-force window, and while the brute-force attack lasts the account's failures go to
it alone. A source hammering `admin` while spraying 50 other accounts is therefore one
`brute_force` signal for `admin` (its attempts) and one `spraying` signal for the 50 (theirs).
A spraying report sent before the account crossed the brute-force threshold may still name it;
the later reports of that spraying attack no longer do.

State lives in memory. A clean stop sends every open attack's final report; after a restart
a continuing attack must cross its threshold again and is reported as a new attack. A crash
loses the observations of open attacks since their last report (the lines are not re-read:
their positions were committed), never a report already spooled."""

import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection

K = TypeVar("K")

# The schema's bounds (server: aips.center.signals.schema).
MAX_LIST = 1000
MAX_COUNT = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _us(at: float) -> int:
    return round(at * 1_000_000)


def _rfc3339_us(us: int) -> str:
    return (_EPOCH + timedelta(microseconds=us)).isoformat()


@dataclass
class Thresholds:
    enabled: bool = True
    window_seconds: float = 60.0
    threshold: int = 10  # brute force: failures; spraying: accounts; scan: ports
    threshold_hosts: int = 0  # scan only: distinct targets (0 = off)
    external_only: bool = True
    quiet_seconds: float = 300.0  # an attack ends after this long without an observation
    update_seconds: float = 900.0  # a report of an open attack at most this often (0 = none)
    max_duration_seconds: float = 86_400.0  # then it goes on as a new attack


class _Window:
    """Observations of one key within the window, with distinct-value counters."""

    __slots__ = ("events", "values_a", "values_b")

    def __init__(self) -> None:
        self.events: deque[tuple[float, str | int | None, str | int | None, str | None]] = deque()
        self.values_a: Counter[str | int] = Counter()
        self.values_b: Counter[str | int] = Counter()

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

    def drop_a(self, value: str | int) -> None:
        """Forget every observation whose first value is `value` (rare: a rebuild is fine)."""
        if value in self.values_a:
            del self.values_a[value]
            self.events = deque(e for e in self.events if e[1] != value)


class _Attack:
    """One confirmed attack's running totals. Sets are exact up to `cap` distinct values; past
    it the count stops growing (a lower bound, said so in the rule name)."""

    __slots__ = (
        "dirty",
        "events",
        "first",
        "full",
        "id",
        "label",
        "last",
        "port_bits",
        "port_count",
        "product",
        "protocols",
        "reported_at",
        "reported_events",
        "reported_mono",
        "reported_us",
        "tally",
        "targets",
        "touched",
        "vendor",
    )

    def __init__(self, at: float, mono: float, product: str, vendor: str) -> None:
        self.id = s.new_id()
        self.first = self.last = at
        self.events = 0
        self.dirty = True
        self.reported_events = 0
        self.reported_us = 0
        self.reported_at = at
        self.reported_mono = mono
        self.touched = mono
        self.product, self.vendor = product, vendor
        self.label = ""  # brute force: the account as the log wrote it
        self.port_bits: bytearray | None = None  # scan: one bit per port, exact at 8 KiB
        self.port_count = 0
        self.targets: set[str] = set()  # scan: hosts
        self.protocols: set[str] = set()
        self.tally: Counter[str] = Counter()  # brute force: sources; spraying: accounts
        self.full = False

    def seen(self, at: float, mono: float) -> None:
        self.events += 1
        self.dirty = True
        self.first = min(self.first, at)
        self.last = max(self.last, at)
        self.touched = mono

    def add_port(self, port: int | None) -> None:
        if port is None:
            return
        if self.port_bits is None:
            self.port_bits = bytearray(8192)
        byte, bit = divmod(port, 8)
        if not self.port_bits[byte] & (1 << bit):
            self.port_bits[byte] |= 1 << bit
            self.port_count += 1

    def ports(self, limit: int) -> list[int]:
        out: list[int] = []
        bits = self.port_bits
        if bits is None:
            return out
        for byte, value in enumerate(bits):
            if value:
                out.extend(byte * 8 + bit for bit in range(8) if value & (1 << bit))
                if len(out) >= limit:
                    break
        return out[:limit]

    def add_target(self, target: str | None, cap: int) -> None:
        if target is None or target in self.targets:
            return
        if len(self.targets) < cap:
            self.targets.add(target)
        else:
            self.full = True

    def add_tally(self, value: str, cap: int, n: int = 1) -> None:
        if value in self.tally or len(self.tally) < cap:
            self.tally[value] += n
        else:
            self.full = True  # counted in `events`, not as a distinct value

    def ended(self, at: float, cfg: Thresholds) -> bool:
        return at - self.last >= cfg.quiet_seconds or at - self.first >= cfg.max_duration_seconds


class _State:
    __slots__ = ("attack", "window")

    def __init__(self) -> None:
        self.window = _Window()
        self.attack: _Attack | None = None


class _Keyed(Generic[K]):
    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.windows: OrderedDict[K, _State] = OrderedDict()

    def get(self, key: K) -> tuple[_State, list[tuple[K, _State]]]:
        """The key's state, and the states dropped to make room for it."""
        state = self.windows.get(key)
        dropped: list[tuple[K, _State]] = []
        if state is None:
            state = self.windows[key] = _State()
            while len(self.windows) > self.max_keys:
                dropped.append(self.windows.popitem(last=False))
        else:
            self.windows.move_to_end(key)
        return state, dropped


SCAN, BRUTE, SPRAY = "scan", "brute_force", "spraying"
_EARLY, _UPDATE, _FINAL = "detected", "ongoing", "ended"


class Detectors:
    """The three detectors, shared by every input (one lock: they are cheap). `observe` and
    `tick` (call it every second or so: quiet periods and updates on the agent's own clock)
    return the reports to spool; `flush` the final reports of every open attack."""

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
        max_list: int = MAX_LIST,
        max_distinct: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = {SCAN: scan, BRUTE: brute_force, SPRAY: spraying}
        self.scan_cfg, self.brute_cfg, self.spray_cfg = scan, brute_force, spraying
        self.networks = networks
        self.sensor = sensor
        self.max_events = max_events
        self.max_list = min(max_list, MAX_LIST)
        self.max_distinct = max_distinct
        self.clock = clock
        self._scan: _Keyed[str] = _Keyed(max_keys)
        self._brute: _Keyed[str] = _Keyed(max_keys)
        self._spray: _Keyed[str] = _Keyed(max_keys)
        self._keyed = {SCAN: self._scan, BRUTE: self._brute, SPRAY: self._spray}
        # The confirmed attacks, so a tick looks at them only and not at every window.
        self._open: dict[tuple[str, str], _State] = {}
        self._lock = threading.Lock()
        self.emitted: Counter[str] = Counter()

    # --- entry points ---------------------------------------------------------------------

    def observe(self, event: AuthFailure | Connection) -> list[s.Signal]:
        with self._lock:
            if isinstance(event, Connection):
                return self._observe_connection(event)
            return self._observe_auth(event)

    def tick(self) -> list[s.Signal]:
        """Close the attacks quiet for `quiet_seconds` of the agent's clock, and send the
        periodic updates of the others."""
        out: list[s.Signal] = []
        with self._lock:
            now = self.clock()
            for (kind, key), state in list(self._open.items()):
                attack = state.attack
                if attack is None:  # pragma: no cover - _open holds confirmed attacks only
                    continue
                cfg = self.cfg[kind]
                if now - attack.touched >= cfg.quiet_seconds:
                    out += self._close(kind, key, state)
                elif (
                    cfg.update_seconds
                    and attack.dirty
                    and now - attack.reported_mono >= cfg.update_seconds
                ):
                    out += self._report(kind, key, attack, _UPDATE)
        return out

    def flush(self) -> list[s.Signal]:
        """The final report of every open attack (the agent is stopping)."""
        out: list[s.Signal] = []
        with self._lock:
            for (kind, key), state in list(self._open.items()):
                out += self._close(kind, key, state)
        return out

    # --- life of an attack ----------------------------------------------------------------

    def _state(self, kind: str, key: str, out: list[s.Signal]) -> _State:
        state, dropped = self._keyed[kind].get(key)
        for old_key, old in dropped:
            if old.attack is not None:
                out += self._close(kind, old_key, old)
        return state

    def _close(self, kind: str, key: str, state: _State) -> list[s.Signal]:
        attack = state.attack
        self._open.pop((kind, key), None)
        state.attack = None
        state.window = _Window()
        if attack is None or not attack.dirty:
            return []  # the last report already told the whole attack
        return self._report(kind, key, attack, _FINAL)

    def _continue(self, kind: str, key: str, state: _State, at: float) -> list[s.Signal]:
        """Before adding an observation to an open attack: end it if it is over."""
        attack = state.attack
        cfg = self.cfg[kind]
        if attack is None or not attack.ended(at, cfg):
            return []
        rollover = at - attack.last < cfg.quiet_seconds  # max duration, not quiet
        out = self._close(kind, key, state)
        if rollover:
            # The same attack goes on: a new id, already confirmed (its first report comes
            # with the next update or its end).
            successor = _Attack(at, self.clock(), attack.product, attack.vendor)
            successor.label = attack.label
            successor.reported_at = at
            state.attack = successor
            self._open[(kind, key)] = state
        return out

    def _confirm(self, kind: str, key: str, state: _State, attack: _Attack) -> list[s.Signal]:
        state.attack = attack
        state.window = _Window()  # the attack holds the totals from here on
        self._open[(kind, key)] = state
        return self._report(kind, key, attack, _EARLY)

    def _maybe_update(self, kind: str, key: str, attack: _Attack, at: float) -> list[s.Signal]:
        cfg = self.cfg[kind]
        if cfg.update_seconds and at - attack.reported_at >= cfg.update_seconds:
            return self._report(kind, key, attack, _UPDATE)
        return []

    def _report(self, kind: str, key: str, attack: _Attack, stage: str) -> list[s.Signal]:
        signal: s.Signal | None
        if kind == SCAN:
            signal = self._scan_signal(key, attack, stage)
        elif kind == BRUTE:
            signal = self._brute_signal(key, attack, stage)
        else:
            signal = self._spray_signal(key, attack, stage)
        if signal is None:
            return []
        count = max(1, attack.events - attack.reported_events)
        signal.count = min(count, MAX_COUNT)
        attack.reported_events += count
        observed = max(_us(attack.last), attack.reported_us + 1)
        signal.observed_at = _rfc3339_us(observed)
        attack.reported_us = observed
        attack.reported_at = attack.last
        attack.reported_mono = self.clock()
        attack.dirty = False
        self.emitted[kind] += 1
        return [signal]

    def _common(self, attack: _Attack) -> dict[str, Any]:
        return {
            "id": attack.id,
            "observed_at": "",  # set by _report
            "product": attack.product,
            "vendor": attack.vendor,
            "sensor": self.sensor,
            "first_seen": _rfc3339(attack.first),
            "last_seen": _rfc3339(attack.last),
        }

    # --- scan (R67.8.6): one source touching ≥ N ports or ≥ M hosts within T --------------

    def _observe_connection(self, event: Connection) -> list[s.Signal]:
        cfg = self.scan_cfg
        if not cfg.enabled:
            return []
        if cfg.external_only and self.networks.is_internal(event.src_ip):
            return []
        out: list[s.Signal] = []
        key = event.src_ip
        state = self._state(SCAN, key, out)
        out += self._continue(SCAN, key, state, event.at)
        attack = state.attack
        if attack is not None:
            self._scan_add(attack, event.at, event.dst_port, event.dst_ip, event.protocol)
            return out + self._maybe_update(SCAN, key, attack, event.at)
        window = state.window
        window.add(event.at, event.dst_port, event.dst_ip, event.protocol, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        ports, hosts = len(window.values_a), len(window.values_b)
        if ports < cfg.threshold and not (cfg.threshold_hosts and hosts >= cfg.threshold_hosts):
            return out
        attack = _Attack(window.events[0][0], self.clock(), event.product, event.vendor)
        for at, port, target, protocol in window.events:
            self._scan_add(
                attack,
                at,
                port if isinstance(port, int) else None,
                str(target) if target is not None else None,
                protocol,
            )
        return out + self._confirm(SCAN, key, state, attack)

    def _scan_add(
        self, attack: _Attack, at: float, port: int | None, target: str | None, proto: str | None
    ) -> None:
        attack.seen(at, self.clock())
        attack.add_port(port)
        attack.add_target(target, self.max_distinct)
        if proto and len(attack.protocols) < 4:
            attack.protocols.add(proto)

    def _scan_signal(self, key: str, attack: _Attack, stage: str) -> s.ScanSignal:
        cfg = self.scan_cfg
        hosts = len(attack.targets)
        more = "≥" if attack.full else ""
        protocols = attack.protocols
        return s.ScanSignal(
            **self._common(attack),
            severity="medium",
            rule_id="aips-agent:scan",
            rule_name=(
                f"Network scan: {attack.port_count} ports, {more}{hosts} hosts "
                f"(threshold {cfg.threshold} in {cfg.window_seconds:g}s; {stage})"
            ),
            src_ip=key,
            protocol=next(iter(protocols))[:16] if len(protocols) == 1 else None,
            direction=self.networks.direction(key),
            ports=attack.ports(self.max_list),
            targets=sorted(attack.targets)[: self.max_list],
            port_count=attack.port_count,
            target_count=min(hosts, 16_777_216),
        )

    # --- brute force and spraying -----------------------------------------------------------

    def _observe_auth(self, event: AuthFailure) -> list[s.Signal]:
        external = event.src_ip is not None and not self.networks.is_internal(event.src_ip)
        account = event.account.strip().lower()
        out: list[s.Signal] = []
        brute_forced = self._brute_force(event, account, external, out)
        if not brute_forced:
            self._spraying(event, account, external, out)
        return out

    # R67.8.7: one account, ≥ N failures from external addresses within T. True when the
    # failure belongs to a confirmed brute-force attack (and so not to spraying).
    def _brute_force(
        self, event: AuthFailure, account: str, external: bool, out: list[s.Signal]
    ) -> bool:
        cfg = self.brute_cfg
        if not cfg.enabled or (cfg.external_only and not external):
            return False
        state = self._state(BRUTE, account, out)
        out += self._continue(BRUTE, account, state, event.at)
        attack = state.attack
        if attack is not None:
            attack.label = event.account[:256]
            self._brute_add(attack, event.at, event.src_ip)
            out += self._maybe_update(BRUTE, account, attack, event.at)
            return True
        window = state.window
        window.add(event.at, event.src_ip, None, None, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        if len(window.events) < cfg.threshold:
            return False
        attack = _Attack(window.events[0][0], self.clock(), event.product, event.vendor)
        attack.label = event.account[:256]
        sources = {str(src) for src in window.values_a}
        for at, src, _b, _extra in window.events:
            self._brute_add(attack, at, str(src) if src is not None else None)
        # These failures are brute force now: out of every spraying tally that holds them.
        for src in sources:
            sprayer = self._spray.windows.get(src)
            if sprayer is None:
                continue
            sprayer.window.drop_a(account)
            spray = sprayer.attack
            if spray is not None and account in spray.tally:
                spray.events -= spray.tally.pop(account)
                spray.dirty = True
        out += self._confirm(BRUTE, account, state, attack)
        return True

    def _brute_add(self, attack: _Attack, at: float, src: str | None) -> None:
        attack.seen(at, self.clock())
        if src is not None:
            attack.add_tally(src, self.max_distinct)

    def _brute_signal(self, key: str, attack: _Attack, stage: str) -> s.BruteForceSignal:
        cfg = self.brute_cfg
        top = attack.tally.most_common(1)
        src = top[0][0] if top else None
        attempts = min(attack.events, MAX_COUNT)
        more = "≥" if attack.full else ""
        external = src is not None and not self.networks.is_internal(src)
        return s.BruteForceSignal(
            **self._common(attack),
            severity="high",
            rule_id="aips-agent:brute_force",
            rule_name=(
                f"Password guessing: {attempts} failures for one account from "
                f"{more}{len(attack.tally)} addresses "
                f"(threshold {cfg.threshold} in {cfg.window_seconds:g}s; {stage})"
            ),
            src_ip=src,
            direction="external" if external else self.networks.direction(src),
            target_account=attack.label or key[:256],
            attempts=attempts,
        )

    # R67.8.8: one source across ≥ N accounts (not under brute force) within T.
    def _spraying(
        self, event: AuthFailure, account: str, external: bool, out: list[s.Signal]
    ) -> None:
        cfg = self.spray_cfg
        src = event.src_ip
        if not cfg.enabled or src is None or (cfg.external_only and not external):
            return
        state = self._state(SPRAY, src, out)
        out += self._continue(SPRAY, src, state, event.at)
        attack = state.attack
        if attack is not None:
            attack.seen(event.at, self.clock())
            attack.add_tally(account, self.max_distinct)
            out += self._maybe_update(SPRAY, src, attack, event.at)
            return
        window = state.window
        window.add(event.at, account, None, None, self.max_events)
        window.expire(event.at - cfg.window_seconds)
        if len(window.values_a) < cfg.threshold:
            return
        attack = _Attack(window.events[0][0], self.clock(), event.product, event.vendor)
        for at, name, _b, _extra in window.events:
            attack.seen(at, self.clock())
            attack.add_tally(str(name), self.max_distinct)
        out += self._confirm(SPRAY, src, state, attack)

    def _spray_signal(self, key: str, attack: _Attack, stage: str) -> s.SprayingSignal | None:
        if not attack.tally or attack.events < 1:
            return None  # every account it had turned out to be brute force
        cfg = self.spray_cfg
        accounts = len(attack.tally)
        more = "≥" if attack.full else ""
        return s.SprayingSignal(
            **self._common(attack),
            severity="high",
            rule_id="aips-agent:spraying",
            rule_name=(
                f"Password spraying: {more}{accounts} accounts from one address "
                f"(threshold {cfg.threshold} in {cfg.window_seconds:g}s; {stage})"
            ),
            src_ip=key,
            direction=self.networks.direction(key),
            accounts=sorted(a[:256] for a in attack.tally)[: self.max_list],
            account_count=min(accounts, 10_000_000),
            attempts=min(attack.events, MAX_COUNT),
        )
