"""One object per Opsgenie account in this process: what the clients of one account share.

An account is its API base URL and a digest of its key (the key itself is never kept). A forked
child starts with none, as its parent's would describe exchanges it never made.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PerAccount", "key_digest"]

T = TypeVar("T")


def key_digest(api_key: str) -> str:
    """Name an API key without keeping it."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class PerAccount(Generic[T]):
    """A registry of one ``T`` per account, made by ``make(base_url, digest)`` on first use."""

    def __init__(self, make: Callable[[str, str], T]) -> None:
        self._make = make
        self._items: dict[tuple[str, str], T] = {}
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self.reset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._items)!r})"

    def get(self, base_url: str, api_key: str) -> T:
        """Return the account's ``T``, made once even when threads ask together."""
        key = (base_url, key_digest(api_key))
        item = self._items.get(key)
        if item is None:
            with self._lock:
                item = self._items.get(key)
                if item is None:
                    item = self._items[key] = self._make(*key)
        return item

    def reset(self) -> None:
        """Forget every account's ``T`` (a forked child starts afresh; tests start each case afresh)."""
        self._items.clear()
        self._lock = threading.Lock()
