"""Where aligned-admin connects: read from the pod's environment, like the services.

In a service's pod the tool uses that service's credentials (ALIGNED_DATABASE_URL, its
KafkaUser); the aligned-admin toolbox pod has its own (ALIGNED_ADMIN_DATABASE_URL and the
aligned-admin KafkaUser). Flags override everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import overload


@overload
def _env(*names: str, default: str) -> str: ...
@overload
def _env(*names: str, default: None = None) -> str | None: ...
def _env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return default


@dataclass(frozen=True)
class AdminSettings:
    database_url: str
    ledger_schema: str
    kafka_bootstrap: str
    service: str | None
    operator: str

    @classmethod
    def from_env(cls) -> AdminSettings:
        service = _env("ALIGNED_SERVICE", "SERVICE")
        service_dsn = f"ALIGNED_{service.upper()}_DATABASE_URL" if service else "ALIGNED_SERVICE_DATABASE_URL"
        return cls(
            database_url=_env(
                "ALIGNED_ADMIN_DATABASE_URL",
                service_dsn,
                "ALIGNED_DATABASE_URL",
                default="postgresql://aligned:aligned@127.0.0.1:15432/aligned",
            ),
            ledger_schema=_env("ALIGNED_ADMIN_SCHEMA", default="aligned_admin"),
            kafka_bootstrap=_env("ALIGNED_KAFKA_BOOTSTRAP", default="127.0.0.1:19092"),
            service=service,
            operator=_env("ALIGNED_ADMIN_OPERATOR", "USER", default="operator"),
        )


def service_url(service: str) -> str:
    """The service's base URL: ALIGNED_ADMIN_<SERVICE>_URL, else its in-cluster Service name."""
    return _env(f"ALIGNED_ADMIN_{service.upper()}_URL", default=f"http://{service}")
