"""Browser tests: the real platform served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

One server and one Chromium serve the whole folder; each test gets a fresh browser context.
See README.md beside this file.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import uvicorn
from jimu.app import create_app
from jimu.demo import ensure_demo
from jimu.kernel import Kernel
from jimu.settings import Settings, catalog_blocked
from jimu_sdk.testing import DEFAULT_PASSWORD
from jimu_sdk.testing.platform import DatabaseFactory
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    WebError,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "test-output" / "screenshots"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
# Migrating a PostgreSQL template and seeding the demo tenant can take a while on a cold CI box.
STARTUP_TIMEOUT_S = 120
SHUTDOWN_TIMEOUT_S = 30
# A step that cannot find its element should fail in seconds, not after Playwright's 30 s.
ACTION_TIMEOUT_MS = 10_000

_WATCHES = pytest.StashKey[list["BrowserWatch"]]()


# ---------------------------------------------------------------------- marker and Chromium


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml runs pytest with --strict-markers; this folder owns the marker.
    config.addinivalue_line("markers", "browser: drives Chromium against a live Jimu server")
    # pytest-xdist's own marker, declared here too so that `-p no:xdist` still collects.
    config.addinivalue_line("markers", "xdist_group(name): run the group in one xdist worker")
    config.addinivalue_line(
        "markers", "allow_console_errors(*texts): console errors containing one of these texts "
                   "do not fail the test (e.g. the 401 of a rejected sign-in)")


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in item.path.parents


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = not CHROMIUM.exists() and not os.environ.get("CI")
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.browser)
        # One worker runs the folder (with `--dist loadgroup`), so parallel runs start one
        # server and one Chromium, not one per worker.
        item.add_marker(pytest.mark.xdist_group("browser"))
        if missing and "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(
                reason=f"browser tests need Debian's Chromium at {CHROMIUM} "
                       "(apt-get install chromium); they fail instead when CI is set"))


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched once for the folder (Playwright never downloads one)."""
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set but {CHROMIUM} is missing: install Debian's chromium package",
                    pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()


# ---------------------------------------------------------------------- the live server


@dataclass
class LiveServer:
    """The platform served on ``base_url``, with the demo tenant signed in by ``password``."""

    base_url: str
    password: str
    kernel: Kernel
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, work: Callable[[Kernel], Awaitable[Any]], timeout: float = 60) -> Any:
        """Run ``work(kernel)`` on the server's event loop and wait for it (e.g. a scheduler
        tick: the live server has no scheduler loop, so nothing fires on its own)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(work(self.kernel), self.loop).result(timeout)


class _ReadyServer(uvicorn.Server):
    """Tells the waiting test thread when startup is over, instead of being polled."""

    def __init__(self, config: uvicorn.Config, settled: threading.Event) -> None:
        super().__init__(config)
        self._settled = settled

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._settled.set()


class _Uvicorn:
    """uvicorn in a daemon thread with its own event loop: database, demo tenant, then serve."""

    def __init__(self, workdir: Path, password: str) -> None:
        self.workdir = workdir
        self.password = password
        # Bound here, handed to uvicorn: no window in which another process takes the port.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.kernel: Kernel | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: _ReadyServer | None = None
        self.error: BaseException | None = None
        self.settled = threading.Event()  # started serving, or gave up
        self.thread = threading.Thread(target=self._run, name="jimu-live-server", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.settled.wait(STARTUP_TIMEOUT_S):
            raise RuntimeError(f"the live server did not start within {STARTUP_TIMEOUT_S} s")
        if self.error is not None:
            raise RuntimeError(f"the live server failed to start: {self.error!r}"
                               ) from self.error
        if self.server is None or not self.server.started:
            raise RuntimeError("uvicorn did not start (its lifespan startup failed; see the "
                               "captured log above)")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(SHUTDOWN_TIMEOUT_S)
        if self.thread.is_alive():
            raise RuntimeError(f"the live server did not stop within {SHUTDOWN_TIMEOUT_S} s")
        if self.error is not None:
            raise RuntimeError(f"the live server failed: {self.error!r}") from self.error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
        finally:
            self.socket.close()  # uvicorn closed it already if it got as far as serving
            self.settled.set()

    async def _serve(self) -> None:
        # The SDK fixtures' factory: a migrated template copied into a fresh SQLite file, or a
        # fresh PostgreSQL database when JIMU_TEST_DATABASE_URL is set. The key is our own so
        # its PostgreSQL template never shares a name with the SDK fixtures' templates.
        databases = DatabaseFactory(os.environ.get("JIMU_TEST_DATABASE_URL") or None,
                                    self.workdir)
        url, name = await databases.fresh(_kernel, "browser-live-server", self.workdir)
        try:
            self.kernel = _kernel(url)
            self.loop = asyncio.get_running_loop()
            self.kernel.db.activate()
            await ensure_demo(self.kernel, self.password)
            app = create_app(self.kernel)
            self.server = _ReadyServer(uvicorn.Config(
                app, host="127.0.0.1", port=self.port, lifespan="on", log_config=None,
                access_log=False, timeout_graceful_shutdown=5), self.settled)
            await self.server.serve(sockets=[self.socket])
        finally:
            await databases.drop(name)
            await databases.drop_templates()


def _kernel(url: str) -> Kernel:
    """Shaped like ``jimu serve``'s: every installed plugin, the catalog's blocks, in-process
    jobs; but no scheduler loop (as in the SDK fixtures), so nothing fires on its own."""
    kernel = Kernel(Settings(
        database_url=url, broker_url=None,
        broker_namespace=f"jimu-browser-{uuid.uuid4().hex[:8]}",
        run_worker_in_process=True, run_scheduler_in_process=False,
        block_plugins=catalog_blocked()))
    kernel.load_plugins()
    return kernel


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real platform on a free 127.0.0.1 port, migrated, with the demo tenant.

    Package-scoped: one server for this whole folder, stopped as soon as its last test ends so
    its in-process worker never outlives the browser tests into the rest of the suite.
    """
    runner = _Uvicorn(tmp_path_factory.mktemp("live-server"), DEFAULT_PASSWORD)
    runner.start()
    try:
        assert runner.kernel is not None
        yield LiveServer(base_url=f"http://127.0.0.1:{runner.port}",
                         password=DEFAULT_PASSWORD, kernel=runner.kernel, loop=runner.loop)
    finally:
        runner.stop()


# ---------------------------------------------------------------------- pages


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


@dataclass
class BrowserWatch:
    """What a browser context did that a test must not ignore."""

    name: str
    allowed: tuple[str, ...] = ()
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    checked: int | None = None  # problems already judged by the end of the test call

    def problems(self) -> list[str]:
        return ([f"console error: {text}" for text in self.console_errors]
                + [f"page error: {text}" for text in self.page_errors]
                + [f"request outside 127.0.0.1: {url}" for url in self.outside_requests])

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            line = message.location.get("lineNumber")
            text = f"{message.text} ({where}:{line})" if where else message.text
            if not any(allowed in text for allowed in self.allowed):
                self.console_errors.append(text)

    def on_web_error(self, error: WebError) -> None:
        self.page_errors.append(str(error.error))

    def on_request(self, request: Request) -> None:
        if not _is_local(request.url):
            self.outside_requests.append(request.url)


def _report(watches: list[BrowserWatch], problems: dict[str, list[str]]) -> str:
    lines = ["the browser reported problems:"]
    for watch in watches:
        for problem in problems.get(watch.name, []):
            lines.append(f"  [{watch.name}] {problem}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose pages logged errors or reached beyond 127.0.0.1 (so xfail covers it)."""
    watches = item.stash.get(_WATCHES, [])
    try:
        result = yield
    except BaseException:
        problems = {w.name: w.problems() for w in watches}
        if any(problems.values()):
            item.add_report_section("call", "browser", _report(watches, problems))
        raise
    problems = {w.name: w.problems() for w in watches}
    if any(problems.values()):
        pytest.fail(_report(watches, problems), pytrace=False)
    for watch in watches:
        watch.checked = len(problems[watch.name])
    return result


@pytest.fixture
def browser_locale() -> str:
    """The pages' locale; ``@pytest.mark.parametrize("browser_locale", ["en"])`` to change."""
    return "zh-CN"


def _open(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest,
          name: str, viewport: ViewportSize, locale: str, **options: Any) -> Iterator[Page]:
    # Tables bind to one engine per process; a test outside this folder may have rebound them.
    live_server.kernel.db.activate()
    context: BrowserContext = browser.new_context(
        viewport=viewport, locale=locale, timezone_id="Asia/Shanghai",
        base_url=live_server.base_url, **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    marker = request.node.get_closest_marker("allow_console_errors")
    watch = BrowserWatch(name, allowed=tuple(marker.args) if marker else ())
    context.on("console", watch.on_console)
    context.on("weberror", watch.on_web_error)
    context.on("request", watch.on_request)
    # Recorded above, then refused: no test may depend on the internet.
    context.route(lambda url: not _is_local(url), lambda route: route.abort("blockedbyclient"))
    request.node.stash.setdefault(_WATCHES, []).append(watch)
    try:
        yield context.new_page()
    finally:
        context.close()  # delivers whatever the browser still had to report
    if watch.checked is not None and (late := watch.problems()[watch.checked:]):
        pytest.fail(_report([watch], {watch.name: late}), pytrace=False)


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest,
         browser_locale: str) -> Iterator[Page]:
    """A fresh 1280×800 page on the live server; console errors, page errors and requests
    beyond 127.0.0.1 fail the test."""
    yield from _open(browser, live_server, request, "page", DESKTOP, browser_locale)


@pytest.fixture
def phone_page(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest,
               browser_locale: str) -> Iterator[Page]:
    """Like ``page``, on a 390×844 touch screen."""
    yield from _open(browser, live_server, request, "phone_page", PHONE, browser_locale,
                     is_mobile=True, has_touch=True)


# ---------------------------------------------------------------------- helpers


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG to ``test-output/screenshots/<name>.png`` and return its path."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    return path


def login(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form and wait until the next page has loaded."""
    page.goto(f"{base_url}/login")
    form = page.locator("form#login-form")
    form.locator('[name="username"]').fill(username)
    form.locator('[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button:not([type]), [type="submit"]').first.click()
    page.wait_for_load_state()
