"""Fixed-window rate limits in the shared cache (R57.28.1). Small on purpose: the API uses
django-ninja's throttles; this covers sign-in, second factor, password reset and bad tokens."""

import time
from dataclasses import dataclass

from django.core.cache import cache

from aips.core.errors import AppError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        count, _, unit = text.partition("/")
        return cls(int(count), _UNITS[unit[:1]])


class RateLimited(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        from django.utils.translation import gettext as _

        super().__init__(_("Too many requests; retry later."))
        self.retry_after = retry_after


def hit(scope: str, key: str, rate: str) -> None:
    """Count one event for (scope, key); raise RateLimited once the window's budget is spent."""
    limit = Rate.parse(rate)
    window = int(time.time() // limit.seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    # add() is atomic where the key is new; incr() is atomic on Redis but a read-then-write on
    # the database cache, where concurrent requests may be slightly under-counted.
    if cache.add(cache_key, 1, timeout=limit.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:
            cache.add(cache_key, 1, timeout=limit.seconds + 1)
            count = 1
    if count > limit.count:
        retry_after = max(1, int(limit.seconds - time.time() % limit.seconds))
        raise RateLimited(retry_after)


def blocked(scope: str, key: str, rate: str) -> int | None:
    """Seconds until (scope, key) may try again if its budget is spent, else None (no count)."""
    limit = Rate.parse(rate)
    window = int(time.time() // limit.seconds)
    count = cache.get(f"rl:{scope}:{key}:{window}") or 0
    if int(count) >= limit.count:
        return max(1, int(limit.seconds - time.time() % limit.seconds))
    return None


class LocalWindow:
    """A fixed-window counter in this process's memory, for hot paths where a shared-cache round
    trip per request costs too much (signal batches). With N server processes the effective
    limit is N × the rate; it guards against a runaway sender, not an exact quota."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, rate: str) -> None:
        limit = Rate.parse(rate)
        now = time.time()
        window = int(now // limit.seconds)
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        if count > limit.count:
            raise RateLimited(max(1, int(limit.seconds - now % limit.seconds)))
