"""Platform settings from the environment (twelve-factor), with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    """``sqlite:///var/jimu.sqlite3`` (default) or ``postgres://jimu_app@host/db``."""
    database_admin_url: str | None = None
    """Owner connection used by ``jimu migrate`` (defaults to ``database_url``)."""
    broker_url: str | None = None
    """Empty: in-process jobs. ``redis://…`` or ``amqp://…`` for separate workers."""
    broker_namespace: str = "jimu"
    run_worker_in_process: bool = True
    run_scheduler_in_process: bool = True
    load_plugins: tuple[str, ...] | None = None
    """Allow-list of plugin entry points (``JIMU_LOAD_PLUGINS``); ``None`` loads all."""
    block_plugins: tuple[str, ...] = ()
    hook_timeout: float = 5.0
    session_days: int = 14
    secure_cookies: bool = False
    pool_size: int = 10
    debug: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        in_process = not env.get("BROKER_URL")
        values: dict[str, object] = {
            "database_url": env.get("DATABASE_URL") or None,
            "database_admin_url": env.get("DATABASE_ADMIN_URL") or None,
            "broker_url": env.get("BROKER_URL") or None,
            "broker_namespace": env.get("JIMU_BROKER_NAMESPACE", "jimu"),
            "run_worker_in_process": env.get("JIMU_IN_PROCESS_WORKER",
                                             "1" if in_process else "0") == "1",
            "run_scheduler_in_process": env.get("JIMU_IN_PROCESS_SCHEDULER",
                                                "1" if in_process else "0") == "1",
            "load_plugins": _split(env.get("JIMU_LOAD_PLUGINS")),
            "block_plugins": _split(env.get("JIMU_BLOCK_PLUGINS")) or (),
            "hook_timeout": float(env.get("JIMU_HOOK_TIMEOUT", "5")),
            "secure_cookies": env.get("JIMU_SECURE_COOKIES", "0") == "1",
            "pool_size": int(env.get("JIMU_DB_POOL_SIZE", "10")),
            "debug": env.get("JIMU_DEBUG", "0") == "1",
        }
        values["block_plugins"] = (*values["block_plugins"], *catalog_blocked())  # type: ignore[misc]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def read_catalog() -> dict[str, Any]:
    """``plugins.toml``: ``JIMU_CATALOG``, else ./plugins.toml, else the repository's."""
    import tomllib
    from pathlib import Path

    candidates = [Path(os.environ["JIMU_CATALOG"])] if "JIMU_CATALOG" in os.environ else [
        Path("plugins.toml"), Path(__file__).resolve().parents[2] / "plugins.toml"]
    for path in candidates:
        if path.is_file():
            return tomllib.loads(path.read_text(encoding="utf-8"))
    return {}


def catalog_blocked() -> tuple[str, ...]:
    """Plugins that ``plugins.toml`` blocks."""
    return tuple(read_catalog().get("platform", {}).get("blocked", []))
