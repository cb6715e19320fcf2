"""R67.8.6–8 at the edge (R67.3.8): scans, brute force and spraying become aggregated signals,
never raw events: one attack, one id, reported when its threshold is crossed, updated while it
lasts and reported with its true totals when it ends; brute force and spraying count apart."""

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


def test_r67_3_8_scan_reported_once_while_it_lasts_then_with_its_totals() -> None:
    d = detectors()
    out = []
    for i in range(200):
        out += d.observe(conn(T0 + i, "198.51.100.9", "10.0.0.1", 1000 + i))
    assert len(out) == 1  # the early report; no update within 900 s of event time
    [final] = d.flush()
    assert data(final)["port_count"] == 200
    assert final.id == out[0].id


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
    assert len(d._spray.windows["198.51.100.1"].window.events) == 50


# --- R67.8: the whole attack is reported (early, updates, final), brute force ≠ spraying ------


class FakeClock:
    """The agent's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def clocked(clock: FakeClock, **overrides: Thresholds) -> Detectors:
    config = {
        "scan": Thresholds(window_seconds=60, threshold=100, threshold_hosts=50),
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
        clock=clock,
    )


def reports_of(out: list[Any], kind: str) -> list[dict[str, Any]]:
    """The reports of one kind as the server reads them (`count` defaults to 1)."""
    return [{"count": 1} | data(x) for x in out if x.__struct_config__.tag == kind]


def test_r67_8_a_thousand_port_scan_is_reported_with_its_thousand_ports() -> None:
    clock = FakeClock()
    d = clocked(clock)
    out: list[Any] = []
    for i in range(1000):
        out += d.observe(conn(T0 + i / 10, "198.51.100.9", "10.0.0.1", 1 + i))
    [early] = reports_of(out, "scan")
    assert early["port_count"] == 100  # the threshold: the center learns at once
    clock.now += 299
    assert d.tick() == []
    clock.now += 1  # 300 s of quiet on the agent's clock: the attack is over
    [final] = reports_of(d.tick(), "scan")
    assert final["id"] == early["id"]  # one attack, one id; a later observed_at
    assert final["observed_at"] > early["observed_at"]
    assert final["port_count"] == 1000
    assert final["ports"] == list(range(1, 1001))
    assert final["target_count"] == 1
    assert final["first_seen"] == "2026-11-22T04:00:00+00:00"
    assert final["last_seen"] == "2026-11-22T04:01:39.900000+00:00"
    assert "ended" in final["rule_name"]
    # Each observation is counted in exactly one report: sums of `count` are true totals.
    assert early["count"] + final["count"] == 1000
    assert d.tick() == []
    assert d.flush() == []


def test_r67_8_scan_lists_stop_at_the_schemas_bound_the_counts_do_not() -> None:
    clock = FakeClock()
    d = clocked(clock)
    for i in range(1500):
        d.observe(conn(T0 + i / 100, "198.51.100.9", f"10.0.{i // 250}.{i % 250 + 1}", 1 + i))
    [final] = reports_of(d.flush(), "scan")
    assert final["port_count"] == 1500
    assert len(final["ports"]) == 1000
    assert final["ports"][:2] == [1, 2]
    assert final["target_count"] == 1500
    assert len(final["targets"]) == 1000


def test_r67_8_eight_guesses_are_eight_attempts_in_the_final_report() -> None:
    clock = FakeClock()
    d = clocked(clock)
    out: list[Any] = []
    for i in range(8):
        out += d.observe(fail(T0 + i, "admin", "203.0.113.9"))
    [early] = reports_of(out, "brute_force")
    assert (early["attempts"], early["count"]) == (5, 5)
    clock.now += 300
    [final] = reports_of(d.tick(), "brute_force")
    assert final["id"] == early["id"]
    assert (final["attempts"], final["count"]) == (8, 3)
    assert final["first_seen"] == "2026-11-22T04:00:00+00:00"
    assert final["last_seen"] == "2026-11-22T04:00:07+00:00"
    assert final["observed_at"] == final["last_seen"]


def test_r67_8_reports_within_one_second_still_differ_in_observed_at() -> None:
    # sshd logs whole seconds: the final must not be taken for a re-send of the early report.
    d = clocked(FakeClock())
    out: list[Any] = []
    for _ in range(8):
        out += d.observe(fail(T0, "admin", "203.0.113.9"))
    out += d.flush()
    early, final = reports_of(out, "brute_force")
    assert early["observed_at"] == "2026-11-22T04:00:00+00:00"
    assert final["observed_at"] == "2026-11-22T04:00:00.000001+00:00"
    assert final["attempts"] == 8


def test_r67_8_brute_force_and_spraying_from_one_source_are_told_apart() -> None:
    clock = FakeClock()
    d = clocked(clock)
    src = "198.51.100.44"
    out: list[Any] = []
    at = T0
    for i in range(50):  # hammering admin while spraying 50 other accounts
        for _ in range(2):
            out += d.observe(fail(at, "admin", src))
            at += 1
        out += d.observe(fail(at, f"user{i:02}", src))
        at += 1
    out += d.flush()
    brute = reports_of(out, "brute_force")
    spray = reports_of(out, "spraying")
    assert brute[-1]["target_account"] == "admin"
    assert brute[-1]["attempts"] == 100
    assert brute[-1]["src_ip"] == src
    assert all("admin" not in r["accounts"] for r in spray)
    assert spray[-1]["accounts"] == [f"user{i:02}" for i in range(50)]
    assert spray[-1]["account_count"] == 50
    assert spray[-1]["attempts"] == 50
    assert len({r["id"] for r in brute}) == len({r["id"] for r in spray}) == 1
    assert sum(r["count"] for r in brute + spray) == 150  # every failure counted once


def test_r67_8_an_account_brute_forced_after_spraying_began_leaves_the_spraying_totals() -> None:
    # Spraying crosses its threshold first, while admin still looks like one of its accounts;
    # once admin crosses the brute-force threshold its attempts move to brute force.
    d = clocked(FakeClock())
    src = "198.51.100.44"
    out: list[Any] = []
    for i in range(50):
        out += d.observe(fail(T0 + 2 * i, "admin", src))
        out += d.observe(fail(T0 + 2 * i + 1, f"user{i:02}", src))
    out += d.flush()
    brute = reports_of(out, "brute_force")
    spray = reports_of(out, "spraying")
    assert "admin" in spray[0]["accounts"]  # the early report knew no better
    assert "admin" not in spray[-1]["accounts"]
    assert (spray[-1]["account_count"], spray[-1]["attempts"]) == (50, 50)
    assert brute[-1]["attempts"] == 50
    assert sum(r["count"] for r in brute + spray) == 100


def test_r67_8_spraying_alone_is_not_brute_force() -> None:
    d = clocked(FakeClock())
    out: list[Any] = []
    for round_ in range(3):  # three passwords across 20 accounts: 3 attempts each
        for i in range(20):
            out += d.observe(fail(T0 + round_ * 20 + i, f"user{i:02}", "198.51.100.44"))
    out += d.flush()
    assert reports_of(out, "brute_force") == []
    assert reports_of(out, "spraying")[-1]["attempts"] == 60
    assert reports_of(out, "spraying")[-1]["account_count"] == 20


def test_r67_8_quiet_in_event_time_ends_the_attack_too() -> None:
    # A replayed log runs faster than the agent's clock: a gap in event time closes it as well.
    d = clocked(FakeClock())
    out: list[Any] = []
    for i in range(6):
        out += d.observe(fail(T0 + i, "admin"))
    for i in range(6):
        out += d.observe(fail(T0 + 400 + i, "admin"))
    reports = reports_of(out, "brute_force")
    assert [(r["attempts"], r["count"]) for r in reports] == [(5, 5), (6, 1), (5, 5)]
    assert reports[0]["id"] == reports[1]["id"] != reports[2]["id"]


def test_r67_8_long_attacks_are_updated_periodically() -> None:
    clock = FakeClock()
    d = clocked(
        clock,
        scan=Thresholds(window_seconds=60, threshold=10, update_seconds=900, quiet_seconds=300),
    )
    out: list[Any] = []
    for i in range(10):
        out += d.observe(conn(T0 + i, "198.51.100.9", "10.0.0.1", 1 + i))
    for minute in range(1, 121):  # then one port a minute for two hours: a slow scan
        out += d.observe(conn(T0 + 60 * minute, "198.51.100.9", "10.0.0.1", 100 + minute))
        clock.now += 60
        out += d.tick()
    out += d.flush()
    reports = reports_of(out, "scan")
    assert len(reports) == 1 + 120 * 60 // 900 + 1  # early, one per 15 minutes, final
    assert len({r["id"] for r in reports}) == 1
    assert [r["observed_at"] for r in reports] == sorted({r["observed_at"] for r in reports})
    assert reports[-1]["port_count"] == 130
    assert sum(r["count"] for r in reports) == 130


def test_r67_8_updates_also_come_from_the_agents_clock() -> None:
    clock = FakeClock()
    d = clocked(
        clock,
        brute_force=Thresholds(
            window_seconds=300, threshold=5, update_seconds=60, quiet_seconds=600
        ),
    )
    out: list[Any] = []
    for i in range(7):
        out += d.observe(fail(T0 + i, "admin"))
    assert len(out) == 1
    clock.now += 60
    [update] = reports_of(d.tick(), "brute_force")
    assert (update["attempts"], update["count"]) == (7, 2)
    assert "ongoing" in update["rule_name"]
    clock.now += 60
    assert d.tick() == []  # nothing new: no report
    clock.now += 600
    assert d.tick() == []  # it ended, and the last update already told all of it


def test_r67_8_an_attack_past_its_maximum_duration_goes_on_under_a_new_id() -> None:
    d = clocked(
        FakeClock(),
        brute_force=Thresholds(
            window_seconds=300,
            threshold=5,
            update_seconds=0,
            quiet_seconds=300,
            max_duration_seconds=3600,
        ),
    )
    out: list[Any] = []
    for i in range(0, 5400, 60):  # three guesses a minute for 90 minutes
        out += d.observe(fail(T0 + i, "admin"))
        out += d.observe(fail(T0 + i + 1, "admin"))
        out += d.observe(fail(T0 + i + 2, "admin"))
    out += d.flush()
    reports = reports_of(out, "brute_force")
    first, second = reports[0]["id"], reports[-1]["id"]
    assert first != second
    assert sum(r["count"] for r in reports) == 270
    assert reports[-1]["first_seen"] == "2026-11-22T05:00:00+00:00"  # no threshold again


def test_r67_8_shutdown_flush_reports_every_open_attack_once() -> None:
    d = clocked(FakeClock())
    for i in range(120):
        d.observe(conn(T0 + i / 10, "198.51.100.9", "10.0.0.1", 1 + i))
        d.observe(fail(T0 + i, "admin"))
        d.observe(fail(T0 + i, f"user{i}", "198.51.100.44"))
    finals = d.flush()
    assert sorted(str(x.__struct_config__.tag) for x in finals) == [
        "brute_force",
        "scan",
        "spraying",
    ]
    assert {data(x)["rule_name"].endswith("ended)") for x in finals} == {True}
    assert d.flush() == []


def test_r67_8_a_key_dropped_for_room_sends_its_final_report() -> None:
    d = Detectors(
        scan=Thresholds(threshold=2, external_only=False),
        brute_force=Thresholds(enabled=False),
        spraying=Thresholds(enabled=False),
        networks=s.Networks(),
        max_keys=2,
        clock=FakeClock(),
    )
    out: list[Any] = []
    for port in (1, 2, 3):
        out += d.observe(conn(T0, "198.51.100.1", "10.0.0.1", port))
    out += d.observe(conn(T0, "198.51.100.2", "10.0.0.1", 1))
    out += d.observe(conn(T0, "198.51.100.3", "10.0.0.1", 1))  # 198.51.100.1 makes room
    reports = reports_of(out, "scan")
    assert [(r["port_count"], r["count"]) for r in reports] == [(2, 2), (3, 1)]


def test_r67_8_after_a_restart_a_continuing_attack_is_a_new_one() -> None:
    # Detector state is in memory: the old process's flush told its attack whole; the new one
    # counts afresh and reports once the threshold is crossed again.
    before = clocked(FakeClock())
    out: list[Any] = []
    for i in range(7):
        out += before.observe(fail(T0 + i, "admin"))
    out += before.flush()
    after = clocked(FakeClock())
    for i in range(7, 14):
        out += after.observe(fail(T0 + i, "admin"))
    out += after.flush()
    reports = reports_of(out, "brute_force")
    assert [(r["attempts"], r["count"]) for r in reports] == [(5, 5), (7, 2), (5, 5), (7, 2)]
    assert len({r["id"] for r in reports}) == 2
