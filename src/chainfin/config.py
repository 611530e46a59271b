"""Settings from the environment (``CHAINFIN_*``). Refuses unsafe defaults in production."""

from __future__ import annotations

import base64
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainfin.domain import clock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINFIN_", extra="ignore")

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    data_keys: SecretStr | None = None
    token_ttl_seconds: int = 3600
    ledger_origin: str = "chainfin.local/ledger"
    ledger_max_delay_seconds: int = 10
    ledger_sequencer: bool = True
    ledger_sequencer_interval_seconds: float = 1.0
    token_issuer: str = "chainfin"  # noqa: S105 - the JWT "iss" claim, not a secret
    # Sign-in (services/signin.py, docs/security.md). Throttles count failed sign-ins per
    # client address and per account name in moving windows ("N/minute", "N per M minutes",
    # several joined by ";"); memory:// is one process's, redis://host:port is shared by
    # every worker. After lockout_failures consecutive failures a user is locked for
    # lockout_minutes. signin_concurrency caps argon2 verifications running at once (0: one
    # fewer than the cores, at least one) so a flood of sign-ins leaves CPU to the rest.
    rate_limit_storage: str = "memory://"
    rate_limit_namespace: str = "chainfin"
    signin_address_limit: str = "20/minute"
    signin_account_limit: str = "5/minute"
    signin_lockout_failures: int = Field(10, ge=1)
    signin_lockout_minutes: int = Field(15, ge=1)
    signin_concurrency: int = Field(0, ge=0)
    # Security headers (api/headers.py): Strict-Transport-Security (max-age hsts_seconds, 0
    # for none) on requests that came over TLS, or on every request when tls_proxy says a
    # TLS-terminating proxy is in front.
    hsts_seconds: int = Field(31_536_000, ge=0)
    tls_proxy: bool = False
    # Request bodies (api/guard.py): ordinary JSON writes, and batch or file ingestion
    # (documents batch, registry import, camt.053 statements, financial statements).
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_ingest_bytes: int = Field(20 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'chainfin.db'}"
        if self.env == "production" and self.data_keys is None:
            raise ValueError(
                "CHAINFIN_DATA_KEYS must be set in production: the keys that encrypt personal "
                "and contact fields, e.g. `chainfin new-data-key` prints one"
            )
        for name in ("signin_address_limit", "signin_account_limit"):
            if getattr(self, name) == type(self).model_fields[name].default:
                continue  # the defaults parse: limits (~35 ms) loads only to check a setting
            from limits import parse_many

            try:
                parse_many(getattr(self, name))
            except ValueError:
                raise ValueError(
                    f"CHAINFIN_{name.upper()}: not a rate limit (e.g. '5/minute', "
                    "'10 per 15 minutes', several joined by ';')"
                ) from None
        return self

    def data_key_spec(self) -> str:
        """Field-encryption keys. In development one is generated into var/data.key."""
        if self.data_keys is not None:
            return self.data_keys.get_secret_value()
        path = self.var_dir / "data.key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        return path.read_text().strip()


@cache
def get_settings() -> Settings:
    return Settings()


def install_clock_from_environment() -> str:
    """Put in force the clock ``CHAINFIN_CLOCK`` asks for (an ISO 8601 instant with its
    offset, or a date: the process starts there and ticks on) and return the setting, or
    return "" and leave the system clock. For replaying a day, testing and running a demo
    ahead of today; refused when ``CHAINFIN_ENV=production``, where the books run on the
    system clock."""
    text = os.environ.get(clock.ENV_VAR, "").strip()
    if not text:
        return ""
    if os.environ.get("CHAINFIN_ENV", "").strip().lower() == "production":
        raise ValueError(
            f"{clock.ENV_VAR} is refused in production: the books run on the system clock"
        )
    clock.set_clock(clock.FixedClock(clock.parse_instant(text)))
    return text
