"""`aips-agent --config FILE {check-config,test-connection,run,status,dead-letters,explain}`.

What an administrator meets is one line naming the file, setting or address and the reason,
and a non-zero exit code — never a Python traceback."""

import argparse
import http.client
import json
import logging
import os
import sqlite3
import ssl
import sys
from pathlib import Path
from typing import Any

from aips_agent import __version__, logs
from aips_agent.config import Config, ConfigError, load
from aips_agent.spool import read_dead_letters, read_status

DEFAULT_CONFIG = "/etc/aips-agent/agent.toml"
log = logging.getLogger("aips_agent.cli")


def _load(path: str) -> Config:
    try:
        return load(Path(path))
    except ConfigError as exc:
        if len(exc.problems) == 1:
            [problem] = exc.problems
            print(problem if problem.startswith(path) else f"{path}: {problem}", file=sys.stderr)
            raise SystemExit(2) from None
        print(f"{path}: the configuration has {len(exc.problems)} problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def check_config(config: Config) -> int:
    """What load() checks, plus what only the machine can tell: files, keys, directories."""
    from aips_agent.transport import CredentialFileError, tls_context

    problems: list[str] = []
    warnings: list[str] = []
    try:
        tls_context(config.server)
    except CredentialFileError as exc:
        problems.append(str(exc))
    spool_dir = config.spool.path.parent
    probe = spool_dir if spool_dir.exists() else spool_dir.parent
    if not os.access(probe, os.W_OK):
        problems.append(f"spool.path: the directory {spool_dir} is not writable")
    for i, item in enumerate(config.inputs):
        if item.path is not None and not item.path.exists():
            warnings.append(f"inputs[{i}].path: {item.path} does not exist (yet); it is waited for")
        elif item.path is not None and not os.access(item.path, os.R_OK):
            problems.append(f"inputs[{i}].path: {item.path} is not readable")
    for warning in warnings:
        print(f"warning: {warning}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(f"configuration OK: {len(config.inputs)} input(s), server {config.server.url}")
    return 0


def test_connection(config: Config) -> int:
    from aips_agent.shipper import HEARTBEAT_PATH
    from aips_agent.transport import Client, CredentialFileError

    try:
        client = Client(config.server)
    except CredentialFileError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 2
    try:
        version, cipher = client.connect()
        print(f"TLS OK: {version}, {cipher}, server certificate verified for {config.server.host}")
        response = client.post_json(
            HEARTBEAT_PATH,
            {
                "version": __version__,
                "queue_depth": 0,
                "oldest_queued_seconds": 0,
                "last_shipped_at": None,
                "disk_full": False,
                "inputs": {},
            },
        )
        client.close()
    except ssl.SSLCertVerificationError as exc:
        print(
            f"FAILED: the server's certificate is not trusted: {exc.verify_message}",
            file=sys.stderr,
        )
        return 1
    except (OSError, ssl.SSLError) as exc:
        print(f"FAILED: cannot reach {config.server.url}: {exc}", file=sys.stderr)
        return 1
    except http.client.HTTPException as exc:  # not an HTTP server, or a broken answer
        print(f"FAILED: {config.server.url} answered badly: {exc!r}", file=sys.stderr)
        return 1
    if response.status != 200:
        hint = {
            401: " (the token is wrong or revoked, or the client certificate is not registered)",
            403: " (this credential may not send signals)",
        }.get(response.status, "")
        print(
            f"FAILED: the server answered HTTP {response.status}{hint}: {response.error_text()}",
            file=sys.stderr,
        )
        return 1
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        print("FAILED: the server's answer is not a heartbeat result", file=sys.stderr)
        return 1
    print(
        f"authenticated: module {_named(answer, 'module')}, "
        f"organization {_named(answer, 'organization')}"
    )
    return 0


def _named(answer: dict[str, Any], what: str) -> str:
    """`"SIEM connector" (id 7)`, or the id alone from a server that sends no names."""
    name, number = answer.get(f"{what}_name"), answer.get(f"{what}_id")
    return f"{json.dumps(name, ensure_ascii=False)} (id {number})" if name else f"{number}"


def status(config: Config, *, as_json: bool) -> int:
    try:
        info = read_status(config.spool.path)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"spool.path {config.spool.path}: cannot read it: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(info, indent=2))
        return 0
    print(
        f"queue depth:      {info['queue_depth']} ({info['queue_bytes']} bytes), "
        f"oldest {info['oldest_queued_seconds']}s"
    )
    print(f"last shipped:     {info['last_shipped_at'] or 'never'}")
    print(f"shipped:          {info['shipped']} (+{info['duplicates']} duplicates already there)")
    print(f"rejected:         {info['rejected']} (dead letters kept: {info['dead_letters']})")
    print(f"spool full:       {'YES — inputs held back' if info['disk_full'] else 'no'}")
    if info["last_error"]:
        print(f"last error:       {info['last_error']} at {info['last_error_at']}")
    elif info["resumed_at"]:
        print(f"delivery:         working again since {info['resumed_at']}")
    print("inputs:")
    for name, counters in sorted(info["inputs"].items()):
        text = ", ".join(f"{k}={v}" for k, v in sorted(counters.items()))
        print(f"  {name}: {text}")
    if info["recent_dead_letters"]:
        print("newest dead letters (all: aips-agent dead-letters):")
    for dead in info["recent_dead_letters"]:
        print(f"  {dead['at']}  {_origin(dead)}: {_reasons(dead['errors'])}")
    return 0


def _origin(dead: dict[str, Any]) -> str:
    if dead.get("source"):
        where = dead["source"]
        if dead.get("position") is not None:
            at = "byte" if not str(where).startswith(("udp:", "tcp:")) else "message"
            where += f" {at} {dead['position']}"
        return f"{dead.get('input') or '?'}: {where}"
    if dead.get("input"):
        return f"{dead['input']}: (made by the agent, no single line)"
    return "origin not recorded (queued by an earlier version)"


def _reasons(errors: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" if k else str(v) for k, v in errors.items()) or "no reason given"


def dead_letters(config: Config, *, as_json: bool, limit: int) -> int:
    """The signals the server refused: why, where they came from, and the record itself."""
    try:
        letters = read_dead_letters(config.spool.path, limit=limit)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"spool.path {config.spool.path}: cannot read it: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(letters, indent=2, ensure_ascii=False))
        return 0
    if not letters:
        print("no dead letters: the server has refused no signal")
        return 0
    for dead in letters:
        print(f"{dead['at']}  " + (f"signal {dead['id']}" if dead["id"] else "unreadable record"))
        print(f"  from:     {_origin(dead)}")
        for field, message in dead["errors"].items():
            print(f"  refused:  {field + ': ' if field else ''}{message}")
        if dead["record"] is not None:
            print(f"  record:   {_printable(dead['record'])}")
        elif dead.get("source") and not str(dead["source"]).startswith(("udp:", "tcp:")):
            print("  record:   (no longer in that file or a rotated copy of it)")
        if dead["signal"]:
            print(f"  signal:   {_printable(dead['signal'])}")
    return 0


def _printable(text: str, limit: int = 1000) -> str:
    """One line, control characters shown as escapes (a NUL is often why it was refused)."""
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode() for c in text[:limit]
    )
    return shown + (f" … ({len(text)} characters)" if len(text) > limit else "")


def explain(
    input_type: str, path: str, config: Config | None, *, input_name: str | None = None
) -> int:
    """What each line of `path` would become as input type `input_type`, and why: one JSON
    object per line, `{"line": N, "kind": KIND or null, "why": TEXT, "signal": OBJECT or
    null}`. With a configuration, the input of that type (or named `input_name`) lends its
    rules and options, and the agent its time zone and internal networks. Nothing is sent."""
    from dataclasses import asdict

    from aips_agent import signals as s
    from aips_agent.cef import cef_mapper
    from aips_agent.config import INPUT_TYPES
    from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
    from aips_agent.mappers import FACTORIES, MapContext

    if input_type not in INPUT_TYPES:
        print(f"--input: one of {', '.join(INPUT_TYPES)}; got {input_type!r}", file=sys.stderr)
        return 2
    ctx = MapContext(trace=[])
    if config is not None:
        chosen = [
            item
            for item in config.inputs
            if (
                item.name == input_name
                if input_name
                else item.type == input_type
                or {item.type, input_type} == {"cef", "syslog"}  # the same CEF rules
            )
        ]
        if input_name and not chosen:
            print(f"--name: no input named {input_name!r} in {config.source}", file=sys.stderr)
            return 2
        ctx.tz, ctx.sensor = config.tz, config.name
        ctx.networks = s.Networks(config.internal_networks)
        if chosen:
            ctx.options = dict(chosen[0].options)
    mapper = cef_mapper(ctx) if input_type in ("cef", "syslog") else FACTORIES[input_type](ctx)
    trace = ctx.trace if ctx.trace is not None else []
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        print(f"{path}: cannot be read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    with handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip(b"\r\n")
            trace.clear()
            if not line.strip():
                _say(number, None, "an empty line", None)
                continue
            try:
                items = mapper(line)
            except (Malformed, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
                _say(number, None, f"unreadable, counted as an error: {exc}", None)
                continue
            notes = [i.why for i in items if isinstance(i, NoEventTime)]
            why = "; ".join(trace) or "not an event"
            if notes:
                why += "; WARNING: " + "; ".join(notes) + " (stamped with the time it was read)"
            made = [i for i in items if not isinstance(i, Dropped | NoEventTime)]
            if not made:
                dropped = [i.why for i in items if isinstance(i, Dropped)]
                _say(number, None, "; ".join(trace) or "; ".join(dropped) or why, None)
            for item in made:
                if isinstance(item, AuthFailure | Connection):
                    kind = "auth_failure" if isinstance(item, AuthFailure) else "connection"
                    _say(number, kind, why + " (fed to the agent's detectors)", asdict(item))
                else:
                    signal = json.loads(s.encode(item))
                    _say(number, signal["kind"], why, signal)
    return 0


def _say(number: int, kind: str | None, why: str, signal: dict[str, Any] | None) -> None:
    print(
        json.dumps({"line": number, "kind": kind, "why": why, "signal": signal}, ensure_ascii=False)
    )


def run(config: Config) -> int:
    from aips_agent.agent import Agent
    from aips_agent.inputs import InputError
    from aips_agent.transport import CredentialFileError

    logs.setup(config.log_level)
    try:
        agent = Agent(config)
    except (InputError, CredentialFileError) as exc:
        print(f"aips-agent: cannot start: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(
            f"aips-agent: cannot start: spool.path {config.spool.path}: cannot open it: {reason}",
            file=sys.stderr,
        )
        return 2
    return agent.run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="aips-agent", description="AIPS integration module (R67.3.8, R67.7)"
    )
    parser.add_argument(
        "--config", "-c", default=os.environ.get("AIPS_AGENT_CONFIG", DEFAULT_CONFIG)
    )
    parser.add_argument("--version", action="version", version=f"aips-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check-config", help="validate the configuration file")
    sub.add_parser("test-connection", help="TLS handshake and an authenticated heartbeat")
    sub.add_parser("run", help="collect and ship until SIGTERM")
    status_parser = sub.add_parser("status", help="queue depth, last shipment, errors per input")
    status_parser.add_argument("--json", action="store_true")
    dead_parser = sub.add_parser(
        "dead-letters", help="signals the server refused: why, and the input line they came from"
    )
    dead_parser.add_argument("--json", action="store_true")
    dead_parser.add_argument("--limit", type=int, default=20)
    explain_parser = sub.add_parser(
        "explain",
        help="what each line of a file would become, and why (one JSON object per line)",
    )
    explain_parser.add_argument(
        "--input", required=True, metavar="TYPE", help="an input type as in the TOML: cef, wazuh…"
    )
    explain_parser.add_argument("--name", help="the configured input whose rules to use")
    explain_parser.add_argument("file")
    args = parser.parse_args(argv)
    if args.command == "explain":
        # The configuration is optional here: without one, the shipped rules and defaults.
        given = args.config != DEFAULT_CONFIG or Path(args.config).exists()
        config = _load(args.config) if given else None
        raise SystemExit(explain(args.input, args.file, config, input_name=args.name))
    config = _load(args.config)
    if args.command == "check-config":
        code = check_config(config)
    elif args.command == "test-connection":
        code = test_connection(config)
    elif args.command == "status":
        code = status(config, as_json=args.json)
    elif args.command == "dead-letters":
        code = dead_letters(config, as_json=args.json, limit=max(1, args.limit))
    else:
        code = run(config)
    raise SystemExit(code)
