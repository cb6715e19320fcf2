"""R67.8.6–8 at the edge (R67.3.8): scans, brute force and spraying become ONE aggregated signal
each, with counts, once a threshold is crossed within the window; raw events are never sent."""

import json
from typing import Any

from aips_agent import signals as s
from aips_agent.detectors import Detectors, Thresholds
from aips_agent.events import AuthFailure, Connection

T0 = 1_795_320_000.0


def detectors(**overrides: Thresholds) -> Detectors:
    config = {
        "scan": Thresholds(window_seconds=60, threshold=10, threshold_hosts=5, external_only=False),
        "brute_force": Thresholds(window_seconds=300, threshold=5),
        "spraying": Thresholds(window_seconds=600, threshold=4),
    }
    config.update(overrides)
    return Detectors(
        scan=config["scan"],
        brute_force=config["brute_force"],
        spraying=config["spraying"],
        networks=s.Networks(),
        sensor="edge-1",
        max_keys=1000,
    )


def fail(at: float, account: str, src: str | None = "203.0.113.9") -> AuthFailure:
    return AuthFailure(at=at, account=account, src_ip=src, product="OpenSSH", vendor="OpenBSD")


def conn(at: float, src: str, dst: str, port: int) -> Connection:
    return Connection(at, src, dst, port, "TCP", "Suricata", "OISF")


def data(signal: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(s.encode(signal))
    return result


def test_r67_3_8_port_scan_emits_once_with_counts() -> None:
    d = detectors()
    out = []
    for i in range(30):
        out += d.observe(conn(T0 + i, "198.51.100.9", "10.0.0.1", 1000 + i))
    assert len(out) == 1  # one signal, then quiet for the window
    scan = data(out[0])
    assert scan["kind"] == "scan"
    assert scan["src_ip"] == "198.51.100.9"
    assert scan["port_count"] == 10
    assert scan["target_count"] == 1
    assert scan["ports"] == list(range(1000, 1010))
    assert scan["targets"] == ["10.0.0.1"]
    assert scan["count"] == 10
    assert scan["first_seen"] == "2026-11-22T04:00:00+00:00"
    assert scan["last_seen"] == "2026-11-22T04:00:09+00:00"
    assert scan["direction"] == "external"


def test_r67_3_8_host_sweep_on_one_port_is_a_scan_too() -> None:
    d = detectors()
    out = []
    for i in range(5):
        out += d.observe(conn(T0 + i, "198.51.100.9", f"10.0.0.{i + 1}", 445))
    assert len(out) == 1
    assert data(out[0])["target_count"] == 5
    assert data(out[0])["ports"] == [445]


def test_r67_3_8_slow_scans_outside_the_window_are_not_reported() -> None:
    d = detectors()
    out = []
    for i in range(30):
        out += d.observe(conn(T0 + i * 7, "198.51.100.9", "10.0.0.1", 1000 + i))  # 9 per 60 s
    assert out == []


def test_r67_3_8_scan_reported_again_after_the_quiet_window() -> None:
    d = detectors()
    out = []
    for i in range(200):
        out += d.observe(conn(T0 + i, "198.51.100.9", "10.0.0.1", 1000 + i))
    assert 3 <= len(out) <= 4  # ~ one per 60 s window, not 190


def test_r67_3_8_brute_force_one_account_from_external_addresses() -> None:
    d = detectors()
    out = []
    for i in range(4):
        out += d.observe(fail(T0 + i, "Admin", f"203.0.113.{i + 1}"))
    assert out == []
    out += d.observe(fail(T0 + 5, "admin", "203.0.113.1"))
    [signal] = out
    bf = data(signal)
    assert bf["kind"] == "brute_force"
    assert bf["attempts"] == 5
    assert bf["count"] == 5
    assert bf["target_account"] == "admin"
    assert bf["src_ip"] == "203.0.113.1"  # the most frequent source
    assert bf["direction"] == "external"
    assert bf["first_seen"] < bf["last_seen"]


def test_r67_3_8_brute_force_ignores_internal_sources() -> None:
    d = detectors()
    out = []
    for i in range(20):
        out += d.observe(fail(T0 + i, "admin", "10.0.0.7"))
    assert out == []


def test_r67_3_8_spraying_one_source_many_accounts() -> None:
    d = detectors()
    out = []
    for i, account in enumerate(["alice", "bob", "carol", "dave", "erin"]):
        out += d.observe(fail(T0 + i, account, "198.51.100.44"))
    [signal] = out
    sp = data(signal)
    assert sp["kind"] == "spraying"
    assert sp["account_count"] == 4
    assert sp["attempts"] == 4
    assert sp["accounts"] == ["alice", "bob", "carol", "dave"]
    assert sp["src_ip"] == "198.51.100.44"


def test_r67_3_8_thresholds_are_configurable_and_detectors_can_be_off() -> None:
    d = detectors(brute_force=Thresholds(enabled=False), spraying=Thresholds(threshold=2))
    out = []
    for i in range(10):
        out += d.observe(fail(T0 + i, "admin" if i % 2 else "root", "198.51.100.1"))
    assert [x.__struct_config__.tag for x in out] == ["spraying"]


def test_r67_3_8_memory_is_bounded_by_max_keys() -> None:
    d = Detectors(
        scan=Thresholds(threshold=1000, external_only=False),
        brute_force=Thresholds(threshold=1000),
        spraying=Thresholds(threshold=1000),
        networks=s.Networks(),
        max_keys=100,
        max_events=50,
    )
    for i in range(5000):
        d.observe(conn(T0, f"198.51.{i // 256}.{i % 256}", "10.0.0.1", 80))
        d.observe(fail(T0, f"user{i}", "198.51.100.1"))
    assert len(d._scan.windows) == 100
    assert len(d._brute.windows) == 100
    assert len(d._spray.windows["198.51.100.1"].events) == 50
