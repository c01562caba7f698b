"""Industry templates (行业模板): bundles of plugins and starter settings from ``plugins.toml``.

Applying one enables its plugins (with their dependencies) and writes its settings; applying
it again changes nothing. Everything it set stays editable afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jimu_sdk.context import current_tenant_id, platform
from jimu_sdk.errors import NotFound

from jimu.db.tables import PluginConfig, Tenant
from jimu.services import tenants as tenant_service
from jimu.settings import read_catalog

if TYPE_CHECKING:
    from jimu.kernel import Kernel


@dataclass(frozen=True)
class IndustryTemplate:
    key: str
    title: dict[str, str]
    description: dict[str, str]
    plugins: tuple[str, ...]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedStep:
    plugin: str
    action: str  # enable | keep | configure | unchanged | missing
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


async def apply_step(kernel: Kernel, step: PlannedStep) -> bool:
    """Carry out one planned step; ``False`` when it had nothing to do."""
    if step.action == "enable":
        return bool(await tenant_service.enable_plugin(kernel, step.plugin))
    if step.action == "configure":
        await tenant_service.save_plugin_settings(kernel, step.plugin, step.after or {})
        return True
    if step.action == "missing":
        raise NotFound(f"plugin {step.plugin} is not installed")
    return False


def load_templates() -> dict[str, IndustryTemplate]:
    templates = read_catalog().get("templates", {})
    return {key: IndustryTemplate(key=key, title=dict(data.get("title", {})),
                                  description=dict(data.get("description", {})),
                                  plugins=tuple(data.get("plugins", ())),
                                  settings={k: dict(v) for k, v in
                                            data.get("settings", {}).items()})
            for key, data in templates.items()}


def get_template(key: str) -> IndustryTemplate:
    template = load_templates().get(key)
    if template is None:
        raise NotFound(f"no industry template named {key!r}")
    return template


async def plan(kernel: Kernel, template: IndustryTemplate) -> list[PlannedStep]:
    """What applying ``template`` would do for the current tenant, plugin by plugin."""
    configs = {row["plugin"]: row for row in await PluginConfig.scoped_select().output(
        load_json=True)}
    enabled = {slug for slug, row in configs.items() if row["enabled"]}
    steps: list[PlannedStep] = []
    wanted: list[str] = []
    for slug in template.plugins:
        if slug not in kernel.plugins.plugins:
            steps.append(PlannedStep(slug, "missing"))
            continue
        for name in [*kernel.plugins.dependency_closure(slug), slug]:
            if name not in wanted:
                wanted.append(name)
    for slug in wanted:
        steps.append(PlannedStep(slug, "keep" if slug in enabled else "enable"))
        if slug in template.settings:
            current = {**kernel.plugins.settings_defaults(slug),
                       **((configs.get(slug) or {}).get("settings") or {})}
            target = {**current, **template.settings[slug]}
            steps.append(PlannedStep(slug, "unchanged" if target == current else "configure",
                                     before=current, after=target))
    return steps


async def apply(kernel: Kernel, template: IndustryTemplate,
                progress: Callable[[int, int, str], None] | None = None) -> list[PlannedStep]:
    """Apply ``template`` to the current tenant; returns the steps that changed something."""
    steps = await plan(kernel, template)
    missing = [s.plugin for s in steps if s.action == "missing"]
    if missing:
        raise NotFound(f"template {template.key} names plugins that are not installed: "
                       f"{', '.join(missing)}")
    changed: list[PlannedStep] = []
    for index, step in enumerate(steps, start=1):
        if progress:
            progress(index, len(steps), step.plugin)
        if await apply_step(kernel, step):
            changed.append(step)
    tenant_id = current_tenant_id()
    row = await Tenant.select(Tenant.template).where(Tenant.id == tenant_id).first()
    if row is not None and row["template"] != template.key:
        await Tenant.update({Tenant.template: template.key}).where(Tenant.id == tenant_id)
        await tenant_service.bump_config_version()
        await platform().audit("template.apply", f"template:{template.key}",
                               {"template": row["template"]}, {"template": template.key})
    return changed
