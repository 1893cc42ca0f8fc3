"""Settings: from the environment, else `.streamlit/secrets.toml`, else embedded defaults.

Every setting has an environment variable ``PANOPTICUM_<NAME>`` and a key ``<name>`` in the
``[panopticum]`` table of the secrets file (or at its top level). The default database is a SQLite
file ``panopticum.db`` in the working folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///panopticum.db"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the setting and its source."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    title: str = "Panopticum"
    anonymous_read: bool = False
    sqlite_busy_timeout_ms: int = 5000
    ldap_url: str | None = None
    ldap_bind_dn: str | None = None
    ldap_bind_password: str | None = field(default=None, repr=False)
    ldap_base_dn: str | None = None
    jira_url: str | None = None
    jira_user: str | None = None
    jira_token: str | None = field(default=None, repr=False)
    cookie_key: str | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _read_secrets(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from exc
    section = data.get("panopticum", {})
    merged = {k: v for k, v in data.items() if not isinstance(v, dict)}
    merged.update(section if isinstance(section, dict) else {})
    return merged


def _coerce(name: str, raw: Any, default: Any, source: str) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{source}: setting {name!r} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{source}: setting {name!r} must be a whole number, not {raw!r}") from exc
    return None if raw is None else str(raw)


def load_settings(
    *, environ: Mapping[str, str] | None = None, secrets_file: Path | None = None, **overrides: Any
) -> Settings:
    """Build the settings: explicit overrides, then ``PANOPTICUM_*`` variables, then the secrets file."""
    env = os.environ if environ is None else environ
    secrets = _read_secrets(secrets_file or Path(env.get("PANOPTICUM_SECRETS_FILE", SECRETS_FILE)))
    values: dict[str, Any] = {}
    defaults = Settings()
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        env_name = f"PANOPTICUM_{f.name.upper()}"
        if f.name in overrides and overrides[f.name] is not None:
            values[f.name] = overrides[f.name]
        elif env.get(env_name):
            values[f.name] = _coerce(f.name, env[env_name], default, f"environment variable {env_name}")
        elif f.name in secrets:
            values[f.name] = _coerce(f.name, secrets[f.name], default, "secrets.toml")
    return Settings(**values)
