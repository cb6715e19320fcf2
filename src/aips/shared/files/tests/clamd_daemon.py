"""A real ClamAV daemon for the R57.12 tests: Debian's `clamd`, started with a temporary
configuration and a one-line signature database written here (the EICAR test file's MD5 and
size as an `.hdb` entry), so nothing is downloaded at test time (no freshclam). Used by AIPS's
and the ETP's tests alike."""

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aips.shared.files import antivirus

CLAMD = Path("/usr/sbin/clamd")
# The EICAR anti-virus test file: harmless, and detected by every scanner that loads its
# signature (here: ours, below).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature"
# What clamd reports: a signature from a database not signed by Cisco gets this suffix.
DETECTED = f"{SIGNATURE}.UNOFFICIAL"
START_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Daemon:
    """One clamd process on a Unix socket in its own temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "clamd.sock"
        self.process: subprocess.Popen[bytes] | None = None
        # Also on TCP (loopback), for AIPS_CLAMD_ADDRESS.
        self.port = _free_port()
        database = root / "db"
        database.mkdir(exist_ok=True)
        (database / "test.hdb").write_text(
            f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{SIGNATURE}\n"  # noqa: S324 (ClamAV's hash format)
        )
        (root / "clamd.conf").write_text(
            "Foreground yes\n"
            f"LocalSocket {self.socket}\n"
            "TCPAddr 127.0.0.1\n"
            f"TCPSocket {self.port}\n"
            f"DatabaseDirectory {database}\n"
            f"TemporaryDirectory {root}\n"
            f"LogFile {root / 'clamd.log'}\n"
            "LogTime yes\n"
            # Our attachments are at most 20 MiB; the daemon's own default is 25 MiB.
            "StreamMaxLength 25M\n"
        )

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 (a fixed binary and our own config)
            [str(CLAMD), "--config-file", str(self.root / "clamd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = antivirus.Clamd(antivirus.Endpoint(unix_path=str(self.socket)), timeout=2)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd exited with {self.process.returncode}: {log}")
            try:
                if client.ping():
                    return
            except antivirus.ScannerUnavailable:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("clamd did not answer PING in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def running_daemon() -> Iterator[Daemon]:
    """The body of a fixture: skip (with the reason) only where Debian's clamd is absent."""
    if not CLAMD.exists():
        pytest.skip("ClamAV's daemon is not installed here (apt-get install clamav-daemon)")
    # A short path: Unix socket paths are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="clamd-"))
    daemon = Daemon(root)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
