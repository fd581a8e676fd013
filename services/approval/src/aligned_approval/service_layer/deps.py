"""The approval service's one dependencies object: built once by bootstrap.build(), handed to
routes (`Service`), consumers and loops alike."""

from __future__ import annotations

from dataclasses import dataclass

from aligned_approval.config import Settings
from aligned_approval.service_layer.mail import Mailer
from aligned_approval.service_layer.ports import UnitsOfWork
from aligned_common.app import Database
from aligned_common.clock import Clock


@dataclass(frozen=True)
class Deps:
    settings: Settings
    database: Database
    uows: UnitsOfWork  # opens units of work on `database`
    clock: Clock
    mailer: Mailer

    @property
    def secret(self) -> bytes:
        """What review links and unsubscribe tokens are signed with (required at startup)."""
        return self.settings.link_secret_bytes()

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url
