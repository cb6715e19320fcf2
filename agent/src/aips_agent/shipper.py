"""Ships the spool to `POST /api/v1/signals` in batches and removes each signal only when the
server has answered for it (R67.7). accepted and duplicate (a re-send the server already has)
leave the spool; rejected leave it too — they can never be accepted — into the dead-letter
table with their origin, loudly, and the rest of their batch is delivered. Everything else
keeps the batch: 413 and a whole-batch 422 halve it until the one signal the server refuses is
alone, which then goes to the dead-letter table with the server's reason (so no answer can
block the queue for ever); 429 waits for Retry-After, 401/403 log an error and retry slowly,
5xx and network errors back off exponentially with jitter. The first success after failures
logs that delivery resumed, and clears the error `status` shows."""

import logging
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aips_agent import __version__
from aips_agent.config import ServerConfig
from aips_agent.spool import Queued, Spool
from aips_agent.transport import Client, Response

log = logging.getLogger("aips_agent.shipper")
SIGNALS_PATH = "/api/v1/signals"
HEARTBEAT_PATH = "/api/v1/integrations/heartbeat"
MAX_BODY = 4 * 1024 * 1024 - 64 * 1024  # the server's 4 MiB, with room to spare
AUTH_RETRY = 60.0


class Backoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self.initial, self.maximum = initial, maximum
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        ceiling = min(self.maximum, self.initial * 2 ** min(self.failures - 1, 30))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self.failures = 0


class Shipper:
    def __init__(
        self,
        spool: Spool,
        server: ServerConfig,
        *,
        client: Client | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self.spool = spool
        self.server = server
        self.client = client or Client(server)
        self.stop = stop or threading.Event()
        self.batch_size = server.batch_size
        self.backoff = Backoff(server.backoff_initial, server.backoff_max)
        self._sleep = sleep or self.stop.wait
        self.wake = threading.Event()
        meta = spool.meta()
        self.totals = {k: int(meta.get(k, 0)) for k in ("shipped", "duplicates", "rejected")}
        self.last_shipped_at: str | None = meta.get("last_shipped_at")
        self.last_error: str | None = meta.get("last_error") or None
        self.errors = 0
        # Since when delivery has been failing (monotonic), for the "delivery resumed" line.
        self._failing_since: float | None = None
        self._failures = 0

    # --- loop -------------------------------------------------------------------------------

    def run(self, *, drain_deadline: Callable[[], bool] | None = None) -> None:
        """Until stop is set (then, while drain_deadline() allows, keep shipping what is queued)."""
        while True:
            stopping = self.stop.is_set()
            if stopping and (drain_deadline is None or not drain_deadline()):
                return
            batch = self.spool.batch(self.batch_size, MAX_BODY)
            if not batch:
                if stopping:
                    return
                self.wake.wait(0.2)
                self.wake.clear()
                continue
            delay = self.ship(batch)
            if delay:
                if stopping:
                    return
                self._sleep(delay)

    def ship(self, batch: list[Queued]) -> float:
        """Send one batch; the number of seconds to wait before the next try (0: go on)."""
        body = b"[" + b",".join(q.body for q in batch) + b"]"
        try:
            response = self.client.request("POST", SIGNALS_PATH, body, compress=self.server.gzip)
        except ssl.SSLCertVerificationError as exc:
            return self._failed(
                f"the server's certificate is not trusted: {exc.verify_message}",
                level=logging.ERROR,
            )
        except ssl.SSLError as exc:
            return self._failed(f"TLS failed: {exc}", level=logging.ERROR)
        except OSError as exc:
            return self._failed(f"network: {exc}")
        except Exception as exc:  # an HTTP protocol error from a broken peer
            return self._failed(f"{type(exc).__name__}: {exc}")
        return self._answered(batch, response)

    def _answered(self, batch: list[Queued], response: Response) -> float:
        status = response.status
        if status == 200:
            return self._acknowledge(batch, response)
        if status == 429:
            wait = response.retry_after()
            wait = self.backoff.next() if wait is None else wait
            self._note_error(f"429 rate limited: waiting {wait:.1f}s", logging.WARNING)
            return max(wait, 0.05)
        if status in (413, 422):
            if len(batch) > 1:
                self.batch_size = max(1, len(batch) // 2)
                log.warning(
                    "server refused the batch as a whole: sending smaller batches",
                    extra={"status": status, "batch_size": self.batch_size},
                )
                return 0.0
            errors = _error_fields(response) or {"": f"HTTP {status}"}
            self._dead(batch, errors)
            return 0.0
        if status in (401, 403):
            return self._failed(
                f"HTTP {status}: the server refuses this agent's credentials (token revoked or "
                "wrong, or the client certificate unknown); everything stays queued",
                level=logging.ERROR,
                wait=max(AUTH_RETRY, self.backoff.next()),
            )
        return self._failed(f"HTTP {status}: {response.error_text()}")

    def _acknowledge(self, batch: list[Queued], response: Response) -> float:
        try:
            answer = response.json()
            items = answer["items"]
        except (ValueError, KeyError, TypeError):
            return self._failed("the server's answer is not a batch result")
        done: list[Queued] = []
        dead: list[tuple[Queued, dict[str, Any]]] = []
        duplicates = 0
        for item in items:
            index = item.get("index") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(batch):
                continue
            queued = batch[index]
            status = item.get("status")
            if not _same_id(item.get("id"), queued.id):
                continue  # not the item we sent at that place: keep ours, send it again
            if status in ("accepted", "duplicate"):
                done.append(queued)
                duplicates += status == "duplicate"
            elif status == "rejected":
                dead.append((queued, item.get("errors") or {}))
        now = datetime.now(UTC).isoformat()
        self.totals["shipped"] += len(done) - duplicates
        self.totals["duplicates"] += duplicates
        self.totals["rejected"] += len(dead)
        meta = {k: str(v) for k, v in self.totals.items()}
        if done:
            meta["last_shipped_at"] = now
            self.last_shipped_at = now
        outage = self._resumed(meta)
        origins = self.spool.ack(done, dead, meta=meta)
        self._log_resumed(outage)
        for (queued, errors), origin in zip(dead, origins, strict=False):
            _log_dead(queued, errors, origin)
        self.backoff.reset()
        if self.batch_size < self.server.batch_size:
            self.batch_size = min(self.server.batch_size, self.batch_size * 2)
        if len(done) + len(dead) < len(batch):
            log.warning(
                "the server did not answer for every signal; the rest is sent again",
                extra={"sent": len(batch), "answered": len(done) + len(dead)},
            )
            return self.backoff.next()
        return 0.0

    def _dead(self, batch: list[Queued], errors: dict[str, Any]) -> None:
        self.totals["rejected"] += len(batch)
        meta = {k: str(v) for k, v in self.totals.items()}
        outage = self._resumed(meta)
        origins = self.spool.ack([], [(q, errors) for q in batch], meta=meta)
        self._log_resumed(outage)
        for queued, origin in zip(batch, origins, strict=False):
            _log_dead(queued, errors, origin)

    def _resumed(self, meta: dict[str, str]) -> dict[str, Any] | None:
        """After failures, the server answered again: clear the error `status` shows (in the
        same spool transaction as the acknowledgement); what to log once it is done."""
        if self.last_error is None and self._failing_since is None:
            return None
        meta["last_error"] = ""
        meta["resumed_at"] = datetime.now(UTC).isoformat()
        seconds = time.monotonic() - self._failing_since if self._failing_since else 0.0
        outage = {
            "failed_seconds": round(seconds, 1),
            "failed_attempts": self._failures,
            "last_error": self.last_error,
        }
        self.last_error, self._failing_since, self._failures = None, None, 0
        return outage

    def _log_resumed(self, outage: dict[str, Any] | None) -> None:
        if outage is None:
            return
        queued = self.spool.items
        if outage["failed_attempts"]:
            message = (
                f"delivery resumed after {outage['failed_seconds']:.0f}s and "
                f"{outage['failed_attempts']} failed attempt(s); {queued} signal(s) still queued"
            )
        else:
            message = (
                "delivery works: the error recorded before this start is cleared; "
                f"{queued} signal(s) queued"
            )
        log.warning(message, extra={**outage, "queue_items": queued})

    def _note_error(self, message: str, level: int) -> None:
        self.errors += 1
        self._failures += 1
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        self.last_error = message
        log.log(level, message, extra={"queue_items": self.spool.items})
        self.spool.set_meta({"last_error": message, "last_error_at": datetime.now(UTC).isoformat()})

    def _failed(
        self, message: str, *, level: int = logging.WARNING, wait: float | None = None
    ) -> float:
        delay = wait if wait is not None else self.backoff.next()
        self._note_error(f"{message}; retrying in {delay:.1f}s", level)
        return delay


def _log_dead(queued: Queued, errors: dict[str, Any], origin: dict[str, Any]) -> None:
    where = origin.get("source") or origin.get("input") or "an unknown input"
    position = origin.get("position")
    log.error(
        f"the server rejected a signal from {where}"
        + (f" at {position}" if position is not None else "")
        + f" ({_reasons(errors)}); it is kept in the dead-letter table "
        "(aips-agent dead-letters), the rest is delivered",
        extra={"signal_id": queued.id, "errors": errors, **origin},
    )


def _reasons(errors: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" if k else str(v) for k, v in errors.items()) or "no reason"


def _error_fields(response: Response) -> dict[str, Any]:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}
    fields = error.get("fields") or {}
    if not fields and error.get("message"):
        fields = {"": error["message"]}
    return dict(fields)


class Heartbeat:
    """Every N seconds: version, queue, last shipment and per-input counters (R67.7)."""

    def __init__(
        self,
        spool: Spool,
        server: ServerConfig,
        shipper: Shipper,
        *,
        stop: threading.Event,
        client: Client | None = None,
    ) -> None:
        self.spool, self.server, self.shipper, self.stop = spool, server, shipper, stop
        self.client = client or Client(server)

    def payload(self) -> dict[str, Any]:
        inputs = {
            name: {k: int(v) for k, v in counters.items()}
            for name, counters in list(self.spool.stats.items())[:50]
        }
        return {
            "version": __version__,
            "queue_depth": self.spool.items,
            "oldest_queued_seconds": round(self.spool.oldest_age(), 1),
            "last_shipped_at": self.shipper.last_shipped_at,
            "disk_full": self.spool.full,
            "inputs": inputs,
        }

    def beat(self) -> Response | None:
        try:
            response = self.client.post_json(HEARTBEAT_PATH, self.payload())
        except (OSError, ssl.SSLError) as exc:
            log.warning("heartbeat failed", extra={"error": str(exc)})
            return None
        if response.status != 200:
            log.warning("heartbeat refused", extra={"status": response.status})
        return response

    def run(self) -> None:
        while not self.stop.is_set():
            self.beat()
            self.stop.wait(self.server.heartbeat_seconds)
        self.client.close()


def _same_id(answered: Any, sent: str) -> bool:
    """The server answers ids in canonical UUID form; compare as UUIDs, not as text."""
    if answered is None or answered == sent:
        return True  # the usual case: the agent's ids are canonical already
    try:
        return uuid.UUID(str(answered)) == uuid.UUID(sent)
    except ValueError:
        return False
