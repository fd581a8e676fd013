"""Accounts of the fake platform, created on first sign-in under any name a test picks."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    created_at: float


class AccountDirectory:
    def __init__(self) -> None:
        self._by_id: dict[str, Account] = {}
        self._lock = threading.Lock()

    def sign_in(self, name: str, now: float) -> Account:
        # The id is derived from the name so that a test (or a restarted sandbox) sees the same
        # account id for the same name.
        account_id = "acct_" + hashlib.sha256(name.encode()).hexdigest()[:16]
        with self._lock:
            return self._by_id.setdefault(account_id, Account(account_id, name, now))

    def get(self, account_id: str) -> Account | None:
        with self._lock:
            return self._by_id.get(account_id)

    def by_name(self, name: str) -> Account | None:
        with self._lock:
            return next((account for account in self._by_id.values() if account.name == name), None)
