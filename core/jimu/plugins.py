"""Plugin loading, contributions, per-tenant hook callers and failure containment.

One ``PluginRegistry`` per platform instance owns one pluggy ``PluginManager`` (never a module
global, so tests stay isolated). Plugins come from the ``jimu.plugins`` entry-point group; first-
and third-party plugins load the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pluggy
from cronsim import CronSim, CronSimError
from jimu_sdk.errors import Conflict, JimuError, NotFound, ValidationFailed
from jimu_sdk.markers import ENTRY_POINT_GROUP, HOOK_NAMESPACE
from jimu_sdk.types import REQUIRED_LOCALES, PluginMeta
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pluggy import HookCaller

from jimu import hookspecs
from jimu.version import CORE_API_VERSION

log = logging.getLogger("jimu.plugins")

SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
RESERVED_NAMES = frozenset({
    "core", "sdk", "auth", "tenants", "users", "roles", "tokens", "plugins", "hook_failures",
    "customers", "partners", "regions", "audit", "pricing", "schema", "health", "ready",
    "admin", "static", "flows", "flow_runs", "notifications"})


class PluginLoadError(Exception):
    """A plugin cannot be loaded; the message says why and names the versions involved."""


class HookFailed(Exception):
    """A fail-closed hook implementation raised or timed out."""

    def __init__(self, plugin: str, hook: str, error: str) -> None:
        super().__init__(f"plugin {plugin!r} failed in {hook}: {error}")
        self.plugin = plugin
        self.hook = hook
        self.error = error


@dataclass
class LoadedPlugin:
    slug: str
    meta: PluginMeta
    module: ModuleType
    contributions: dict[str, Any] = field(default_factory=dict)

    def contributed(self, hook: str, default: Any = None) -> Any:
        value = self.contributions.get(hook)
        return default if value is None else value


@dataclass
class BrokenPlugin:
    name: str
    error: str
    traceback: str = ""


@dataclass
class FailureRecord:
    tenant_id: int | None
    plugin: str
    hook: str
    kind: str
    error: str
    traceback: str


class FailureLog:
    """Hook failures, buffered in memory and written by core outside the failing transaction.

    The failing request usually rolls back, so the record must not ride in its transaction.
    """

    def __init__(self) -> None:
        self._pending: list[FailureRecord] = []
        self._lock = threading.Lock()
        self.counts: Counter[tuple[int | None, str, str]] = Counter()

    def record(self, *, tenant_id: int | None, plugin: str, hook: str, kind: str,
               error: str, tb: str = "") -> None:
        log.warning("hook failure", extra={"plugin": plugin, "hook": hook,
                                           "tenant": tenant_id, "error": error})
        with self._lock:
            self._pending.append(FailureRecord(tenant_id, plugin, hook, kind, error, tb))
            self.counts[(tenant_id, plugin, hook)] += 1

    def take(self) -> list[FailureRecord]:
        with self._lock:
            pending, self._pending = self._pending, []
        return pending


def _current_tenant() -> int | None:
    from jimu_sdk.context import current_scope

    scope = current_scope()
    return scope.tenant_id if scope else None


def guard_implementation(function: Callable[..., Any], *, plugin: str, hook: str,
                         failures: FailureLog, timeout: float, fail_closed: bool
                         ) -> Callable[..., Any]:
    """Wrap a runtime hook implementation so its failure is recorded instead of spreading.

    Async implementations are cancelled at ``timeout``; a synchronous one cannot be interrupted,
    so its late answer is discarded and recorded as a timeout. Fail-closed hooks re-raise
    :class:`HookFailed` after recording, so the money path can refuse to answer; a
    ``JimuError`` they raise is the plugin refusing the input and passes through unrecorded.
    """

    def failed(kind: str, error: str, tb: str) -> None:
        failures.record(tenant_id=_current_tenant(), plugin=plugin, hook=hook, kind=kind,
                        error=error, tb=tb)
        if fail_closed:
            raise HookFailed(plugin, hook, error)

    if inspect.iscoroutinefunction(function):
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                # In this task (no task per call, unlike wait_for): hooks on the pricing
                # path run several times per request.
                async with asyncio.timeout(timeout):
                    return await function(*args, **kwargs)
            except TimeoutError:
                failed("timeout", f"no answer within {timeout:g}s", "")
            except Exception as exc:
                if fail_closed and isinstance(exc, JimuError):
                    raise  # the plugin refused the input (an unknown item): the user's to fix
                failed("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            return None

        return guarded_async

    clock = time.perf_counter  # a local: price hooks run once per quotation line

    def guarded(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            result = function(*args, **kwargs)
        except HookFailed:
            raise
        except Exception as exc:
            if fail_closed and isinstance(exc, JimuError):
                raise  # the plugin refused the input (an unknown item): the user's to fix
            failed("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            return None
        elapsed = clock() - started
        if elapsed > timeout:
            failed("timeout", f"answered after {elapsed:.2f}s, limit {timeout:g}s", "")
            return None
        return result

    guarded.__wrapped__ = function  # type: ignore[attr-defined]  # the pricing fold calls it
    return guarded


class TenantHooks:
    """Hook callers that reach only one set of enabled plugins (shared by tenants with it).

    Each is a plain pluggy ``HookCaller`` holding just the enabled implementations: pluggy's
    own subset caller filters every implementation on every call (1.2-2.3x the cost of a full
    call when few plugins are on; benchmarks/hook_dispatch.py). The registry drops these
    callers whenever a plugin is added or removed.
    """

    def __init__(self, pm: pluggy.PluginManager, enabled: frozenset[str]) -> None:
        self._pm = pm
        self._enabled = enabled

    def __getattr__(self, name: str) -> Any:
        original: HookCaller = getattr(self._pm.hook, name)
        caller = HookCaller(name, self._pm._hookexec, original.spec.namespace
                            if original.spec else None,
                            original.spec.opts if original.spec else None)
        for impl in original.get_hookimpls():
            if impl.plugin_name in self._enabled:
                caller._add_hookimpl(impl)
        setattr(self, name, caller)  # cached: later lookups skip __getattr__
        return caller


class PluginRegistry:
    def __init__(self, *, hook_timeout: float = 5.0, failures: FailureLog | None = None) -> None:
        self.pm = pluggy.PluginManager(HOOK_NAMESPACE)
        self.pm.add_hookspecs(hookspecs)
        self.hook_timeout = hook_timeout
        self.failures = failures if failures is not None else FailureLog()
        self.plugins: dict[str, LoadedPlugin] = {}
        self.broken: dict[str, BrokenPlugin] = {}
        self._callers: dict[frozenset[str], TenantHooks] = {}

    # ---------------------------------------------------------------- loading

    def load_entry_points(self, *, allow: Iterable[str] | None = None,
                          block: Iterable[str] = ()) -> None:
        allowed = set(allow) if allow is not None else None
        blocked = set(block)
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name in blocked or (allowed is not None and entry.name not in allowed):
                continue
            try:
                module = entry.load()
            except Exception as exc:
                self.broken[entry.name] = BrokenPlugin(
                    entry.name, f"import failed: {type(exc).__name__}: {exc}",
                    traceback.format_exc())
                log.error("plugin %s is broken: import failed: %s", entry.name, exc)
                continue
            self.add(module, name=entry.name)

    def add(self, module: ModuleType, *, name: str | None = None) -> LoadedPlugin | None:
        """Register a plugin module; on any problem it is listed as broken and skipped."""
        label = str(name or getattr(getattr(module, "meta", None), "name", None)
                    or module.__name__)
        try:
            meta = self._check_meta(module, name)
            self.pm.register(module, name=meta.name)
        except (PluginLoadError, ValueError, pluggy.PluginValidationError) as exc:
            self.broken[label] = BrokenPlugin(label, str(exc))
            log.error("plugin %s is broken: %s", label, exc)
            return None
        plugin = LoadedPlugin(slug=meta.name, meta=meta, module=module)
        try:
            for hook in hookspecs.CONTRIBUTION_HOOKS:
                plugin.contributions[hook] = self._contribution(meta.name, hook)
            self._check_contributions(plugin)
        except Exception as exc:
            self.pm.unregister(module)
            message = str(exc) if isinstance(exc, PluginLoadError) else (
                f"{type(exc).__name__}: {exc}")
            self.broken[meta.name] = BrokenPlugin(meta.name, message, traceback.format_exc())
            log.error("plugin %s is broken: %s", meta.name, message)
            return None
        self._guard_runtime_hooks(meta.name)
        self.plugins[meta.name] = plugin
        self._callers.clear()
        return plugin

    def finish_loading(self) -> None:
        """Mark plugins with unknown hooks, or missing or broken dependencies, as broken."""
        while True:
            try:
                self.pm.check_pending()
                break
            except pluggy.PluginValidationError as exc:
                slug = self.pm.get_name(exc.plugin) or str(exc.plugin)
                self.broken[slug] = BrokenPlugin(slug, f"implements a hook that does not "
                                                       f"exist: {exc}")
                self.pm.unregister(exc.plugin)
                self.plugins.pop(slug, None)
        # Node types are found by key across plugins: two plugins must not offer the same one
        # (the designer and the runs could not tell them apart). The first by slug keeps it.
        offered: dict[str, str] = {}
        for slug in sorted(self.plugins):
            for node_type in self.plugins[slug].contributed("register_workflow_nodes", []):
                owner = offered.setdefault(node_type.key, slug)
                if owner != slug and slug not in self.broken:
                    self.broken[slug] = BrokenPlugin(
                        slug, f"offers the workflow node type {node_type.key!r}, which "
                              f"plugin {owner} offers already; give it a key of its own "
                              f"(e.g. {slug}_{node_type.key})")
                    log.error("plugin %s is broken: node type %s clashes with %s", slug,
                              node_type.key, owner)
        for slug in [s for s in self.plugins if s in self.broken]:
            self.pm.unregister(self.plugins.pop(slug).module)
        changed = True
        while changed:
            changed = False
            for slug, plugin in list(self.plugins.items()):
                missing = [d for d in plugin.meta.depends if d not in self.plugins]
                if missing:
                    reasons = ", ".join(
                        f"{d} (broken: {self.broken[d].error})" if d in self.broken
                        else f"{d} (not installed)" for d in missing)
                    self.broken[slug] = BrokenPlugin(slug, f"depends on {reasons}")
                    self.pm.unregister(plugin.module)
                    del self.plugins[slug]
                    changed = True
        self._callers.clear()

    def _check_meta(self, module: ModuleType, name: str | None) -> PluginMeta:
        meta = getattr(module, "meta", None)
        if not isinstance(meta, PluginMeta):
            raise PluginLoadError(
                f"module {module.__name__} has no `meta = PluginMeta(...)`; every plugin "
                "declares its name, version, titles, author and required core API")
        if not meta.name or set(meta.name) - SLUG_CHARS or meta.name[0].isdigit():
            raise PluginLoadError(f"plugin name {meta.name!r} must be snake_case")
        if name is not None and name != meta.name:
            raise PluginLoadError(
                f"entry point {name!r} loads a plugin that calls itself {meta.name!r}")
        if meta.name in RESERVED_NAMES:
            raise PluginLoadError(f"the plugin name {meta.name!r} is reserved by core "
                                  f"(its routes would clash with /api/v1/{meta.name})")
        if meta.name in self.plugins:
            raise PluginLoadError(f"a plugin named {meta.name!r} is already loaded")
        try:
            Version(meta.version)
        except InvalidVersion as exc:
            raise PluginLoadError(f"plugin {meta.name} has an invalid version "
                                  f"{meta.version!r}") from exc
        for label, text in (("title", meta.title), ("description", meta.description)):
            missing = [loc for loc in REQUIRED_LOCALES if not text.get(loc)]
            if missing:
                raise PluginLoadError(f"plugin {meta.name} {label} lacks {', '.join(missing)}")
        try:
            wanted = SpecifierSet(meta.requires_core)
        except InvalidSpecifier as exc:
            raise PluginLoadError(f"plugin {meta.name} requires_core {meta.requires_core!r} "
                                  "is not a version specifier") from exc
        if Version(CORE_API_VERSION) not in wanted:
            raise PluginLoadError(
                f"plugin {meta.name} {meta.version} requires core API {meta.requires_core}, "
                f"but this platform provides core API {CORE_API_VERSION}")
        return meta

    def _contribution(self, slug: str, hook: str) -> Any:
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == slug:
                return impl.function()
        return None

    def _check_contributions(self, plugin: LoadedPlugin) -> None:
        slug = plugin.slug
        for permission in plugin.contributed("register_permissions", []):
            if not permission.key.startswith(f"{slug}."):
                raise PluginLoadError(
                    f"permission {permission.key!r} of plugin {slug} must start with '{slug}.'")
        schema = plugin.contributions.get("register_settings_schema")
        if schema is not None and not (isinstance(schema, type)
                                       and issubclass(schema, msgspec.Struct)):
            raise PluginLoadError(f"settings schema of {slug} must be a msgspec.Struct class")
        translations = plugin.contributed("register_translations", {})
        if isinstance(translations, str | Path):
            from jimu.i18n import read_catalog_dir

            translations = {loc: read_catalog_dir(translations, loc) for loc in REQUIRED_LOCALES}
        if translations:
            keys = {loc: set(translations.get(loc, {})) for loc in REQUIRED_LOCALES}
            ids = set().union(*keys.values())
            for loc, present in keys.items():
                if ids - present:
                    raise PluginLoadError(
                        f"translations of {slug} lack {loc} for {sorted(ids - present)}")
        for schedule in plugin.contributed("register_schedules", []):
            try:
                CronSim(schedule.cron, dt.datetime(2000, 1, 1))
            except CronSimError as exc:
                raise PluginLoadError(
                    f"schedule {schedule.name} of {slug} has an invalid cron "
                    f"{schedule.cron!r}: {exc}") from exc
        template_dir = plugin.contributions.get("register_template_dir")
        if template_dir is not None:
            root = Path(template_dir)
            strays = [p.name for p in root.iterdir() if p.name != slug] if root.is_dir() else []
            if strays:
                raise PluginLoadError(
                    f"templates of {slug} must live under {root}/{slug}/; found {strays}")

    def _guard_runtime_hooks(self, slug: str) -> None:
        for hook in hookspecs.RUNTIME_HOOKS:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin_name == slug:
                    impl.function = guard_implementation(
                        impl.function, plugin=slug, hook=hook, failures=self.failures,
                        timeout=self.hook_timeout, fail_closed=hook in hookspecs.FAIL_CLOSED_HOOKS)

    # ---------------------------------------------------------------- per tenant

    def hooks_for(self, enabled: frozenset[str]) -> TenantHooks:
        """Hook callers reaching only ``enabled`` plugins; cached per distinct enabled set."""
        hooks = self._callers.get(enabled)
        if hooks is None:
            hooks = self._callers[enabled] = TenantHooks(self.pm, enabled)
        return hooks

    def get(self, slug: str) -> LoadedPlugin:
        plugin = self.plugins.get(slug)
        if plugin is None:
            if slug in self.broken:
                raise Conflict(f"plugin {slug!r} is broken: {self.broken[slug].error}",
                               field="plugin")
            raise NotFound(f"no plugin named {slug!r} is installed")
        return plugin

    def dependency_closure(self, slug: str) -> list[str]:
        """``slug``'s dependencies, transitively, dependencies first."""
        ordered: list[str] = []

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in trail:
                raise Conflict(f"plugins {' → '.join((*trail, name))} depend on each other")
            for dep in self.get(name).meta.depends:
                visit(dep, (*trail, name))
            if name not in ordered:
                ordered.append(name)

        visit(slug, ())
        return ordered[:-1]

    def dependents(self, slug: str, among: Iterable[str]) -> list[str]:
        """Plugins in ``among`` that need ``slug`` (directly or through others)."""
        return sorted(s for s in among if s != slug and s in self.plugins
                      and slug in self.dependency_closure(s))

    def settings_defaults(self, slug: str) -> dict[str, Any]:
        schema = self.get(slug).contributions.get("register_settings_schema")
        if schema is None:
            return {}
        try:
            return msgspec.to_builtins(msgspec.convert({}, schema))
        except msgspec.ValidationError:
            return {}

    def validate_settings(self, slug: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``data`` against the plugin's schema; 422 naming every bad field."""
        schema = self.get(slug).contributions.get("register_settings_schema")
        if schema is None:
            if data:
                raise ValidationFailed(f"plugin {slug} has no settings",
                                       errors=[{"field": k, "message": "unknown setting"}
                                               for k in data])
            return {}
        if not isinstance(data, Mapping):
            raise ValidationFailed("settings must be a JSON object")
        errors: list[dict[str, str]] = []
        fields = {f.name: f for f in msgspec.structs.fields(schema)}
        for key in data:
            if key not in fields:
                errors.append({"field": key, "message": "unknown setting"})
        for name, info in fields.items():
            if name not in data:
                if info.required:
                    errors.append({"field": name, "message": "is required"})
                continue
            try:
                msgspec.convert(data[name], info.type)
            except msgspec.ValidationError as exc:
                errors.append({"field": name, "message": str(exc).split(" - at ")[0]})
        if not errors:
            try:
                return msgspec.to_builtins(msgspec.convert(dict(data), schema))
            except msgspec.ValidationError as exc:
                errors.append({"field": "", "message": str(exc)})
        raise ValidationFailed(
            "invalid settings: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors)
