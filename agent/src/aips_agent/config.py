"""The agent's one TOML file (see packaging/agent.example.toml). Everything is checked at load,
and every problem names its key, e.g. `inputs[2].path: required for type "suricata_eve"`."""

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aips_agent import signals as s
from aips_agent.detectors import Thresholds
from aips_agent.rules import CEF_TARGETS, check_cef_rule, check_wazuh_rule

FILE_TYPES = (
    "suricata_eve",
    "modsecurity",
    "wazuh",
    "clamav",
    "jsonl",
    "sshd",
    "windows_4625",
    "cef",
)
INPUT_TYPES = (*FILE_TYPES, "syslog")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")


class ConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ServerConfig:
    url: str
    host: str
    port: int
    base_path: str
    ca_file: Path
    token: str | None
    client_cert: Path | None
    client_key: Path | None
    proxy: str | None
    timeout: float = 30.0
    batch_size: int = 500
    gzip: bool = True
    heartbeat_seconds: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0


@dataclass
class SpoolConfig:
    path: Path
    max_bytes: int = 1 << 30
    max_items: int = 2_000_000
    min_free_bytes: int = 64 << 20


@dataclass
class InputConfig:
    name: str
    type: str
    path: Path | None = None
    start_at: str = "end"
    udp: tuple[str, int] | None = None
    tcp: tuple[str, int] | None = None
    format: str = "cef"  # syslog payload
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    source: Path
    name: str
    state_dir: Path
    log_level: str
    tz: tzinfo
    internal_networks: list[str]
    server: ServerConfig
    spool: SpoolConfig
    inputs: list[InputConfig]
    scan: Thresholds
    brute_force: Thresholds
    spraying: Thresholds
    detector_max_keys: int = 100_000
    poll_seconds: float = 0.25
    shutdown_flush_seconds: float = 5.0


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problems.append(f"{where}{key}: must be a table")
            return {}
        return value

    def get(
        self,
        data: dict[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
    ) -> Any:
        if key not in data:
            if required:
                self.problems.append(f"{where}{key}: required")
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.problems.append(f"{where}{key}: expected {_kind_name(kinds)}, got {value!r}")
            return default
        if not isinstance(value, kinds):
            self.problems.append(f"{where}{key}: expected {_kind_name(kinds)}, got {value!r}")
            return default
        return value

    def positive(self, data: dict[str, Any], key: str, where: str, default: Any) -> Any:
        value = self.get(data, key, where, type(default), default)
        if isinstance(value, int | float) and value <= 0:
            self.problems.append(f"{where}{key}: must be greater than 0")
            return default
        return value

    def unknown(self, data: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(data) - allowed):
            self.problems.append(f"{where}{key}: unknown setting")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _address(text: str, where: str, problems: list[str]) -> tuple[str, int] | None:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        problems.append(f'{where}: give host:port, e.g. "0.0.0.0:5514"')
        return None
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - a listener's default


def load(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except PermissionError:
        raise ConfigError([f"{path}: cannot be read by {_whoami()}: permission denied"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse(raw, source=path)


def _whoami() -> str:
    """`user aips-agent (uid 998)`: who the agent runs as, for permission errors."""
    import pwd

    uid = os.geteuid()
    try:
        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def parse(raw: dict[str, Any], *, source: Path, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    r = _Reader()
    base = source.parent
    r.unknown(raw, {"agent", "server", "spool", "detectors", "inputs"}, "")

    def rel(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    agent = r.section(raw, "agent", "")
    r.unknown(
        agent,
        {
            "name",
            "state_dir",
            "log_level",
            "timezone",
            "internal_networks",
            "poll_seconds",
            "shutdown_flush_seconds",
        },
        "agent.",
    )
    name = r.get(agent, "name", "agent.", str, os.uname().nodename)
    state_dir = rel(r.get(agent, "state_dir", "agent.", str, "/var/lib/aips-agent"))
    log_level = r.get(agent, "log_level", "agent.", str, "info").lower()
    if log_level not in ("debug", "info", "warning", "error"):
        r.problems.append("agent.log_level: one of debug, info, warning, error")
    tz: tzinfo = UTC
    tz_name = r.get(agent, "timezone", "agent.", str, "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        r.problems.append(f"agent.timezone: unknown time zone {tz_name!r}")
    networks = r.get(agent, "internal_networks", "agent.", list, list(s.Networks.DEFAULT))
    for i, cidr in enumerate(networks):
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            r.problems.append(f"agent.internal_networks[{i}]: {cidr!r} is not a network")

    server = _server(r, r.section(raw, "server", ""), rel, env)
    spool_raw = r.section(raw, "spool", "")
    r.unknown(spool_raw, {"path", "max_bytes", "max_items", "min_free_bytes"}, "spool.")
    spool = SpoolConfig(
        path=rel(r.get(spool_raw, "path", "spool.", str, str(state_dir / "spool.db"))),
        max_bytes=r.positive(spool_raw, "max_bytes", "spool.", 1 << 30),
        max_items=r.positive(spool_raw, "max_items", "spool.", 2_000_000),
        min_free_bytes=r.get(spool_raw, "min_free_bytes", "spool.", int, 64 << 20),
    )

    detectors = r.section(raw, "detectors", "")
    r.unknown(detectors, {"scan", "brute_force", "spraying", "max_keys"}, "detectors.")
    scan = _thresholds(
        r,
        detectors,
        "scan",
        Thresholds(window_seconds=60, threshold=100, threshold_hosts=50, external_only=False),
    )
    brute = _thresholds(r, detectors, "brute_force", Thresholds(window_seconds=300, threshold=10))
    spray = _thresholds(r, detectors, "spraying", Thresholds(window_seconds=600, threshold=10))

    inputs_raw = raw.get("inputs", [])
    inputs: list[InputConfig] = []
    if not isinstance(inputs_raw, list):
        r.problems.append("inputs: must be an array of tables ([[inputs]])")
        inputs_raw = []
    if not inputs_raw:
        r.problems.append("inputs: configure at least one [[inputs]]")
    seen: set[str] = set()
    for i, item in enumerate(inputs_raw):
        where = f"inputs[{i}]."
        if not isinstance(item, dict):
            r.problems.append(f"inputs[{i}]: must be a table")
            continue
        parsed = _input(r, item, where, rel)
        if parsed is None:
            continue
        if parsed.name in seen:
            r.problems.append(f"{where}name: {parsed.name!r} is used twice")
        seen.add(parsed.name)
        inputs.append(parsed)

    if r.problems or server is None:
        raise ConfigError(r.problems or ["server: required"])
    return Config(
        source=source,
        name=name,
        state_dir=state_dir,
        log_level=log_level,
        tz=tz,
        internal_networks=[str(n) for n in networks],
        server=server,
        spool=spool,
        inputs=inputs,
        scan=scan,
        brute_force=brute,
        spraying=spray,
        detector_max_keys=r.positive(detectors, "max_keys", "detectors.", 100_000),
        poll_seconds=r.positive(agent, "poll_seconds", "agent.", 0.25),
        shutdown_flush_seconds=r.get(agent, "shutdown_flush_seconds", "agent.", float, 5.0),
    )


def _server(r: _Reader, data: dict[str, Any], rel: Any, env: dict[str, str]) -> ServerConfig | None:
    w = "server."
    r.unknown(
        data,
        {
            "url",
            "ca_file",
            "token",
            "token_file",
            "client_cert",
            "client_key",
            "proxy",
            "timeout",
            "batch_size",
            "gzip",
            "heartbeat_seconds",
            "backoff_initial",
            "backoff_max",
        },
        w,
    )
    url = r.get(data, "url", w, str, required=True)
    ca = r.get(data, "ca_file", w, str, required=True)
    if url is None or ca is None:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https":
        r.problems.append(f"server.url: must start with https:// (R57.25), got {url!r}")
        return None
    if not parts.hostname:
        r.problems.append(f"server.url: no host in {url!r}")
        return None
    token = r.get(data, "token", w, str)
    token_file = r.get(data, "token_file", w, str)
    if token and token_file:
        r.problems.append("server.token_file: give token or token_file, not both")
    if token_file:
        try:
            token = Path(rel(token_file)).read_text(encoding="utf-8").strip()
        except PermissionError:
            r.problems.append(
                f"server.token_file: {rel(token_file)} cannot be read by {_whoami()}: "
                "permission denied"
            )
        except OSError as exc:
            r.problems.append(
                f"server.token_file: cannot read {rel(token_file)}: {exc.strerror or exc}"
            )
        except UnicodeDecodeError:
            r.problems.append(f"server.token_file: {rel(token_file)} is not UTF-8 text")
    if token is not None and not token.startswith("aipsa_"):
        r.problems.append("server.token: an agent token starts with aipsa_")
    cert = r.get(data, "client_cert", w, str)
    key = r.get(data, "client_key", w, str)
    if bool(cert) != bool(key):
        r.problems.append("server.client_cert: client_cert and client_key go together")
    if not token and not cert:
        r.problems.append(
            "server.token: give an agent token (token or token_file) or a client "
            "certificate (client_cert and client_key)"
        )
    proxy = r.get(data, "proxy", w, str) or env.get("HTTPS_PROXY") or env.get("https_proxy")
    if proxy:
        p = urlsplit(proxy if "//" in proxy else f"http://{proxy}")
        if p.scheme not in ("http", "https") or not p.hostname:
            r.problems.append(f"server.proxy: give http://host:port, got {proxy!r}")
        if _no_proxy(parts.hostname, env):
            proxy = None
    batch = r.positive(data, "batch_size", w, 500)
    if batch > 1000:
        r.problems.append("server.batch_size: at most 1000 (the server's limit)")
    return ServerConfig(
        url=url.rstrip("/"),
        host=parts.hostname,
        port=parts.port or 443,
        base_path=parts.path.rstrip("/"),
        ca_file=rel(ca),
        token=token,
        client_cert=rel(cert) if cert else None,
        client_key=rel(key) if key else None,
        proxy=proxy or None,
        timeout=r.positive(data, "timeout", w, 30.0),
        batch_size=min(batch, 1000),
        gzip=r.get(data, "gzip", w, bool, True),
        heartbeat_seconds=r.positive(data, "heartbeat_seconds", w, 60.0),
        backoff_initial=r.positive(data, "backoff_initial", w, 1.0),
        backoff_max=r.positive(data, "backoff_max", w, 300.0),
    )


def _no_proxy(host: str, env: dict[str, str]) -> bool:
    rules = env.get("NO_PROXY") or env.get("no_proxy") or ""
    for rule in (x.strip().lstrip(".") for x in rules.split(",")):
        if rule and (rule == "*" or host == rule or host.endswith("." + rule)):
            return True
    return False


def _thresholds(r: _Reader, data: dict[str, Any], key: str, default: Thresholds) -> Thresholds:
    d = r.section(data, key, "detectors.")
    w = f"detectors.{key}."
    allowed = {"enabled", "window_seconds", "threshold", "external_only"}
    allowed |= {"quiet_seconds", "update_seconds", "max_duration_seconds"}
    if key == "scan":
        allowed |= {"threshold_hosts"}
    r.unknown(d, allowed, w)
    update = r.get(d, "update_seconds", w, float, float(default.update_seconds))
    if update < 0:
        r.problems.append(f"{w}update_seconds: must be 0 (no updates) or more")
    return Thresholds(
        enabled=r.get(d, "enabled", w, bool, default.enabled),
        window_seconds=r.positive(d, "window_seconds", w, float(default.window_seconds)),
        threshold=r.positive(d, "threshold", w, default.threshold),
        threshold_hosts=r.get(d, "threshold_hosts", w, int, default.threshold_hosts),
        external_only=r.get(d, "external_only", w, bool, default.external_only),
        quiet_seconds=r.positive(d, "quiet_seconds", w, float(default.quiet_seconds)),
        update_seconds=max(update, 0.0),
        max_duration_seconds=r.positive(
            d, "max_duration_seconds", w, float(default.max_duration_seconds)
        ),
    )


_OPTION_KEYS = {
    "suricata_eve": {"product", "vendor", "product_version", "flows_to_detectors"},
    "modsecurity": {"product", "vendor"},
    "wazuh": {"product", "vendor", "min_level", "rules", "default_rules"},
    "clamav": {"product", "vendor", "severity"},
    "jsonl": {"kind", "fields", "constants", "match"},
    "sshd": {"product", "vendor"},
    "windows_4625": {"product", "vendor"},
    "cef": {"rules", "default_kind", "default_rules"},
    "syslog": {"rules", "default_kind", "default_rules"},
}


def _input(r: _Reader, item: dict[str, Any], w: str, rel: Any) -> InputConfig | None:
    name = r.get(item, "name", w, str, required=True)
    kind = r.get(item, "type", w, str, required=True)
    if name is None or kind is None:
        return None
    if not _NAME.match(name):
        r.problems.append(f"{w}name: letters, digits, _ . - only (at most 50), got {name!r}")
    if kind not in INPUT_TYPES:
        r.problems.append(f"{w}type: one of {', '.join(INPUT_TYPES)}; got {kind!r}")
        return None
    base = {"name", "type", "path", "start_at", "udp", "tcp"}
    r.unknown(item, base | _OPTION_KEYS[kind], w)
    options = {k: v for k, v in item.items() if k in _OPTION_KEYS[kind]}
    result = InputConfig(name=name, type=kind, options=options)
    if kind == "syslog":
        udp, tcp = r.get(item, "udp", w, str), r.get(item, "tcp", w, str)
        if not udp and not tcp:
            r.problems.append(f"{w}udp: a syslog input listens on udp and/or tcp (host:port)")
        result.udp = _address(udp, f"{w}udp", r.problems) if udp else None
        result.tcp = _address(tcp, f"{w}tcp", r.problems) if tcp else None
    else:
        path = r.get(item, "path", w, str)
        if not path:
            r.problems.append(f'{w}path: required for type "{kind}"')
        else:
            result.path = rel(path)
        result.start_at = r.get(item, "start_at", w, str, "end")
        if result.start_at not in ("beginning", "end"):
            r.problems.append(f'{w}start_at: "beginning" or "end", got {result.start_at!r}')
    if kind in ("cef", "syslog", "wazuh"):
        rules = options.get("rules", [])
        if not isinstance(rules, list):
            r.problems.append(f"{w}rules: must be an array of tables ([[inputs.rules]])")
            rules = []
        check = check_wazuh_rule if kind == "wazuh" else check_cef_rule
        for j, rule in enumerate(rules):
            r.problems.extend(check(rule, f"{w}rules[{j}]."))
        if not isinstance(options.get("default_rules", True), bool):
            r.problems.append(f"{w}default_rules: expected true or false")
    if kind in ("cef", "syslog"):
        default_kind = options.get("default_kind", "ignore")
        if default_kind not in CEF_TARGETS:
            r.problems.append(f"{w}default_kind: one of {', '.join(CEF_TARGETS)}")
    if kind == "jsonl":
        sig_kind = options.get("kind")
        if sig_kind not in s.KINDS:
            r.problems.append(f"{w}kind: one of {', '.join(s.KINDS)}")
        else:
            allowed = s.FIELDS[sig_kind] - {"id", "kind"}
            for section in ("fields", "constants"):
                table = options.get(section, {})
                if not isinstance(table, dict):
                    r.problems.append(f"{w}{section}: must be a table")
                    continue
                for key in sorted(set(table) - allowed):
                    r.problems.append(
                        f"{w}{section}.{key}: not a field of a {sig_kind} signal "
                        f"(fields: {', '.join(sorted(allowed))})"
                    )
            mapped = set(options.get("fields", {})) | set(options.get("constants", {}))
            required = {
                "phishing": {"sender"},
                "waf": {"url"},
                "endpoint": {"host", "detection"},
                "malware": {"file_name", "detection"},
                "brute_force": {"target_account", "attempts"},
                "spraying": {"account_count", "attempts"},
            }.get(sig_kind, set())
            for key in sorted(required - mapped):
                r.problems.append(f"{w}fields.{key}: a {sig_kind} signal needs it; map it")
            if not isinstance(options.get("match", {}), dict):
                r.problems.append(f"{w}match: must be a table")
    if kind == "wazuh" and not isinstance(options.get("min_level", 7), int):
        r.problems.append(f"{w}min_level: expected an integer")
    return result
