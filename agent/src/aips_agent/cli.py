"""`aips-agent --config FILE {check-config,test-connection,run,status}`."""

import argparse
import json
import logging
import os
import ssl
import sys
from pathlib import Path
from typing import Any

from aips_agent import __version__, logs
from aips_agent.config import Config, ConfigError, load
from aips_agent.spool import read_status

DEFAULT_CONFIG = "/etc/aips-agent/agent.toml"
log = logging.getLogger("aips_agent.cli")


def _load(path: str) -> Config:
    try:
        return load(Path(path))
    except ConfigError as exc:
        print(f"{path}: the configuration has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def check_config(config: Config) -> int:
    """What load() checks, plus what only the machine can tell: files, keys, directories."""
    from aips_agent.transport import tls_context

    problems: list[str] = []
    warnings: list[str] = []
    try:
        tls_context(config.server)
    except (OSError, ssl.SSLError) as exc:
        problems.append(f"server.ca_file / client_cert / client_key: cannot be loaded: {exc}")
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
    from aips_agent.transport import Client

    try:
        client = Client(config.server)
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
    if response.status != 200:
        print(
            f"FAILED: the server answered HTTP {response.status}: {response.body[:300]!r}",
            file=sys.stderr,
        )
        return 1
    answer: Any = response.json()
    print(
        f"authenticated: module {answer.get('module_id')}, "
        f"organization {answer.get('organization_id')}"
    )
    return 0


def status(config: Config, *, as_json: bool) -> int:
    try:
        info = read_status(config.spool.path)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
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
    print("inputs:")
    for name, counters in sorted(info["inputs"].items()):
        text = ", ".join(f"{k}={v}" for k, v in sorted(counters.items()))
        print(f"  {name}: {text}")
    for dead in info["recent_dead_letters"]:
        print(f"dead letter {dead['id']} at {dead['at']}: {dead['errors']}")
    return 0


def run(config: Config) -> int:
    from aips_agent.agent import Agent

    logs.setup(config.log_level)
    return Agent(config).run()


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
    args = parser.parse_args(argv)
    config = _load(args.config)
    if args.command == "check-config":
        code = check_config(config)
    elif args.command == "test-connection":
        code = test_connection(config)
    elif args.command == "status":
        code = status(config, as_json=args.json)
    else:
        code = run(config)
    raise SystemExit(code)
