"""pytest fixtures for Jimu plugins (registered through the ``pytest11`` entry point).

Override ``jimu_plugins`` in a test module to load plugin modules that are not installed
(e.g. a plugin under development), and ``jimu_load_installed`` to leave installed ones out::

    @pytest.fixture
    def jimu_plugins():
        return [my_plugin]

Environment: ``JIMU_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`` runs the
tests on PostgreSQL (one fresh database per test), ``JIMU_TEST_BROKER_URL=redis://…`` on a real
broker; by default each test gets a SQLite file and the in-memory broker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from jimu_sdk.testing.platform import DatabaseFactory, TestPlatform, TestTenant, apps_key

_factory: DatabaseFactory | None = None


def _database_factory(tmp_path_factory: pytest.TempPathFactory) -> DatabaseFactory:
    global _factory
    if _factory is None:
        _factory = DatabaseFactory(os.environ.get("JIMU_TEST_DATABASE_URL") or None,
                                   tmp_path_factory.mktemp("jimu-templates"))
    return _factory


@pytest.fixture(scope="session", autouse=True)
def jimu_cheap_password_hashing() -> Iterator[None]:
    """argon2 at its cheapest parameters while tests run (as Django's tests use a fast hasher).

    Production parameters cost about 0.1 s per hash and per check, and every tenant, user and
    sign-in a test makes pays it; hundreds of them were a fifth of the suite's time. Passwords
    are still argon2 hashes checked by the same code; only the work factor differs (argon2
    reads it from each hash).
    """
    from argon2 import PasswordHasher, profiles
    from jimu.services import auth

    saved = auth._hasher, auth._DUMMY_HASH
    auth._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    # Unknown-user sign-ins check against the dummy: as cheap as a wrong password, as in core.
    auth._DUMMY_HASH = auth._hasher.hash("jimu-dummy-password")
    yield
    auth._hasher, auth._DUMMY_HASH = saved


@pytest.fixture
def jimu_plugins() -> list[ModuleType]:
    """Plugin modules to load besides the installed ones (override per test module)."""
    return []


@pytest.fixture
def jimu_load_installed() -> bool:
    """Load every plugin installed through the ``jimu.plugins`` entry point."""
    return True


@pytest.fixture
def jimu_settings() -> dict[str, Any]:
    """Extra ``Settings`` fields for the test platform (override per test module)."""
    return {}


@pytest.fixture
async def jimu_platform_factory(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
                                ) -> AsyncIterator[Callable[..., Any]]:
    """Build platforms on demand: ``await factory(plugins=[...], installed=False)``."""
    from jimu.app import create_app
    from jimu.kernel import Kernel
    from jimu.settings import Settings

    databases = _database_factory(tmp_path_factory)
    started: list[tuple[TestPlatform, Any, str | None]] = []

    def make_kernel(url: str, plugins: list[ModuleType], installed: bool,
                    extra_settings: dict[str, Any]) -> Kernel:
        values: dict[str, Any] = {
            "database_url": url,
            "broker_url": os.environ.get("JIMU_TEST_BROKER_URL") or None,
            "broker_namespace": f"jimu-test-{uuid.uuid4().hex[:8]}",
            "run_worker_in_process": True, "run_scheduler_in_process": False,
            "load_plugins": None if installed else (),
            "extra": {"retry_min_backoff_ms": "5", "retry_max_backoff_ms": "20"},
        }
        settings = Settings(**{**values, **extra_settings})
        kernel = Kernel(settings)
        kernel.load_plugins(*plugins)
        return kernel

    async def factory(*, plugins: list[ModuleType] | None = None, installed: bool = True,
                      settings: dict[str, Any] | None = None) -> TestPlatform:
        modules = list(plugins or [])
        extra = dict(settings or {})
        key = apps_key(modules, installed)
        sub = tmp_path / f"platform-{len(started)}"
        sub.mkdir()
        url, name = await databases.fresh(
            lambda u: make_kernel(u, modules, installed, extra), key, sub)
        kernel = make_kernel(url, modules, installed, extra)
        app = create_app(kernel)
        # What the app's startup hook does; litestar's lifespan cannot span pytest's
        # separate setup and teardown tasks.
        await kernel.start()
        platform = TestPlatform(kernel, app, name)
        started.append((platform, kernel, name))
        return platform

    yield factory

    for platform, kernel, name in reversed(started):
        await platform.close()
        await kernel.stop()
        await databases.drop(name)


@pytest.fixture
async def jimu_platform(jimu_platform_factory: Callable[..., Any],
                        jimu_plugins: list[ModuleType], jimu_load_installed: bool,
                        jimu_settings: dict[str, Any]) -> TestPlatform:
    """An isolated platform (kernel + app) on a fresh database, with its worker running."""
    platform: TestPlatform = await jimu_platform_factory(
        plugins=jimu_plugins, installed=jimu_load_installed, settings=jimu_settings)
    platform.kernel.db.activate()
    return platform


@pytest.fixture
def make_tenant(jimu_platform: TestPlatform) -> Callable[..., Any]:
    """``await make_tenant(plugins=["followups"], config={"followups": {...}})``."""
    return jimu_platform.make_tenant


@pytest.fixture
async def jimu_tenant(jimu_platform: TestPlatform) -> TestTenant:
    """A tenant with every loaded plugin enabled."""
    return await jimu_platform.make_tenant(plugins=sorted(jimu_platform.kernel.plugins.plugins))


@pytest.fixture
async def jimu_client(jimu_platform: TestPlatform, jimu_tenant: TestTenant) -> Any:
    """An API client signed in as the admin of ``jimu_tenant``."""
    return await jimu_platform.login(jimu_tenant.admin_username, jimu_tenant.password)


@pytest.fixture
def run_jobs(jimu_platform: TestPlatform) -> Callable[[], Any]:
    """``await run_jobs()``: relay events, fire due timers, wait for the worker."""
    return jimu_platform.run_jobs


@pytest.fixture
def hook_calls(jimu_platform: TestPlatform) -> Any:
    """A recorder of every hook call: ``hook_calls.named("customer_facts")``."""
    jimu_platform.hook_calls.clear()
    return jimu_platform.hook_calls


def pytest_configure(config: pytest.Config) -> None:
    # Core's handlers still use litestar 2's inferred parameter style; its deprecation
    # warnings are core's to fix, not a plugin author's to read (docs/decisions/0011).
    config.addinivalue_line("filterwarnings", "ignore:.*declared using deprecated inferred style")
    config.addinivalue_line("filterwarnings", "ignore:.*declared without a body marker")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _factory is not None and _factory.is_postgres:
        import asyncio

        asyncio.run(_factory.drop_templates())
