"""Moving-window rate limits on the ``limits`` library's storage (``memory://`` for one
process, ``redis://host:port`` for several workers or hosts; ``CHAINFIN_RATE_LIMIT_STORAGE``).

The windows are kept on the machine's clock, where ``limits`` keeps them (not on chainfin's
injectable clock): a test that moves ``chainfin.domain.clock`` does not move them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from chainfin.domain import clock


class RateLimitUnavailable(RuntimeError):
    """The rate-limit storage could not be reached (for example Redis is down)."""


def parse_limits(text: str) -> list[RateLimitItem]:
    """``"5/minute"``, ``"10 per 15 minutes"``, several separated by ``;``."""
    try:
        return list(parse_many(text))
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {text!r} ({exc})") from None


class RateLimiter:
    """Counts events per key in moving windows; ``namespace`` separates deployments (and
    tests) that share one Redis."""

    def __init__(self, uri: str, *, namespace: str = "chainfin") -> None:
        self.uri = uri
        self.namespace = namespace
        if uri.startswith("redis"):
            # Fail fast rather than hang a sign-in on an unreachable Redis.
            storage = storage_from_string(uri, socket_timeout=2.0, socket_connect_timeout=2.0)
        else:
            storage = storage_from_string(uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{uri!r} names an asyncio storage; use memory:// or redis://")
        self._storage: Storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)

    @property
    def shared(self) -> bool:
        """Whether other processes see the same counts (not so for ``memory://``)."""
        return not isinstance(self._storage, MemoryStorage)

    def retry_after(self, items: Sequence[RateLimitItem], *key: str) -> int | None:
        """Seconds until the next event for ``key`` would be within every limit in
        ``items``, or None if it is within them now."""
        wait = 0.0
        try:
            for item in items:
                if not self._limiter.test(item, self.namespace, *key):
                    stats = self._limiter.get_window_stats(item, self.namespace, *key)
                    wait = max(wait, stats.reset_time - clock.wall_epoch_ms() / 1000)
                    wait = max(wait, 1.0)
        except Exception as exc:
            raise RateLimitUnavailable(f"rate-limit storage {self._redacted()}: {exc}") from exc
        return math.ceil(wait) if wait > 0 else None

    def hit(self, items: Sequence[RateLimitItem], *key: str) -> None:
        """Count one event for ``key`` against every limit in ``items``."""
        try:
            for item in items:
                self._limiter.hit(item, self.namespace, *key)
        except Exception as exc:
            raise RateLimitUnavailable(f"rate-limit storage {self._redacted()}: {exc}") from exc

    def clear(self, items: Sequence[RateLimitItem], *key: str) -> None:
        try:
            for item in items:
                self._limiter.clear(item, self.namespace, *key)
        except Exception as exc:
            raise RateLimitUnavailable(f"rate-limit storage {self._redacted()}: {exc}") from exc

    def check(self) -> bool:
        """Whether the storage answers."""
        try:
            return bool(self._storage.check())
        except Exception:  # noqa: BLE001
            return False

    def _redacted(self) -> str:
        head, sep, tail = self.uri.partition("@")
        return f"{head.split(':')[0]}://***@{tail}" if sep else self.uri
