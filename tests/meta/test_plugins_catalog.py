"""plugins.toml names only plugins that exist, with settings their schemas accept."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = tomllib.loads((ROOT / "plugins.toml").read_text(encoding="utf-8"))


def test_catalog_has_the_eight_industry_templates():
    assert set(CATALOG["templates"]) == {
        "retail_distribution", "catering_chain", "manufacturing_after_sales", "auto_4s",
        "property_repair", "beauty_private_domain", "education", "maternal_baby"}


async def test_templates_name_installed_plugins_with_valid_settings(jimu_platform):
    registry = jimu_platform.kernel.plugins
    for key, template in CATALOG["templates"].items():
        assert set(template["title"]) == {"zh-CN", "en"}, key
        for slug in template["plugins"]:
            assert slug in registry.plugins, f"template {key} names unknown plugin {slug}"
        for slug, settings in template.get("settings", {}).items():
            assert slug in template["plugins"], f"{key} configures {slug} but does not enable it"
            registry.validate_settings(slug, settings)


async def test_templates_enable_what_their_plugins_depend_on(jimu_platform):
    registry = jimu_platform.kernel.plugins
    for key, template in CATALOG["templates"].items():
        enabled = set(template["plugins"])
        for slug in enabled:
            missing = set(registry.plugins[slug].meta.depends) - enabled
            assert not missing, f"template {key} enables {slug} without {sorted(missing)}"
