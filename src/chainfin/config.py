"""Settings from the environment (``CHAINFIN_*``). Refuses unsafe defaults in production."""

from __future__ import annotations

import base64
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainfin.domain import clock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINFIN_", extra="ignore")

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr | None = None
    data_keys: SecretStr | None = None
    token_ttl_seconds: int = 3600
    ledger_origin: str = "chainfin.local/ledger"
    ledger_max_delay_seconds: int = 10
    ledger_sequencer: bool = True
    ledger_sequencer_interval_seconds: float = 1.0
    token_issuer: str = "chainfin"  # noqa: S105 - the JWT "iss" claim, not a secret

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'chainfin.db'}"
        if self.env == "production" and self.secret_key is None:
            raise ValueError(
                "CHAINFIN_SECRET_KEY must be set in production (at least 32 random bytes, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.env == "production" and self.data_keys is None:
            raise ValueError(
                "CHAINFIN_DATA_KEYS must be set in production: the keys that encrypt personal "
                "and contact fields, e.g. `chainfin new-data-key` prints one"
            )
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("CHAINFIN_SECRET_KEY must be at least 32 characters")
        return self

    def signing_key(self) -> str:
        """The token signing key. In development it is generated once into var/secret.key
        (mode 0600) so tokens survive restarts; production must set CHAINFIN_SECRET_KEY."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret.key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

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
