"""Every plugin distribution under plugins/ is fenced by the import-linter contracts."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_plugin_package_is_under_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["name"]: c for c in config["contracts"]}
    fenced = set(contracts["Plugins import the SDK, never core"]["source_modules"])
    forbidden_to_core = set(contracts["Core never imports a plugin"]["forbidden_modules"])
    packages = {p.parent.name for p in ROOT.glob("plugins/*/jimu_*/plugin.py")}
    assert packages, "no plugin packages found"
    assert packages <= fenced, f"plugins not fenced from core: {packages - fenced}"
    assert packages <= forbidden_to_core, f"core may import: {packages - forbidden_to_core}"
    assert packages <= set(config["root_packages"])
