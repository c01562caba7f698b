"""Copy the admin UI's front-end packages from ``core/frontend/node_modules`` into
``core/jimu/static/vendor/``, which is committed: deployments need neither Node.js nor the
internet, and no page loads anything from outside the platform.

    cd core/frontend && npm ci && cd ../.. && python scripts/vendor_assets.py

``vendor/manifest.json`` records each package's version from ``package-lock.json``;
``tests/meta/test_frontend_assets.py`` checks that manifest, the lock file and the copies agree.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "core" / "frontend"
VENDOR = ROOT / "core" / "jimu" / "static" / "vendor"

# package → files copied (source path inside the package → name under vendor/<package>/)
FILES: dict[str, dict[str, str]] = {
    "htmx.org": {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "LICENSE"},
    # "common" holds line, bar, pie, scatter and the usual components at a third of the size
    # of the full build; the tenant home stays under its 500 KB page-weight budget.
    "echarts": {"dist/echarts.common.min.js": "echarts.common.min.js", "LICENSE": "LICENSE",
                "NOTICE": "NOTICE"},
    "@picocss/pico": {"css/pico.min.css": "pico.min.css", "LICENSE.md": "LICENSE.md"},
    # The flow designer (decision 0017): LogicFlow's browser builds, loaded by the designer
    # page only. layout's build bundles dagre and needs no other file; 2.0.11 is its newest
    # release (its nested copy of core is not used by the browser build).
    "@logicflow/core": {"dist/index.min.js": "logicflow.min.js", "dist/index.css": "index.css",
                        "LICENSE": "LICENSE"},
    "@logicflow/layout": {"dist/index.min.js": "layout.min.js", "LICENSE": "LICENSE"},
}


def locked_versions() -> dict[str, str]:
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in FILES}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    modules = FRONTEND / "node_modules"
    if not modules.is_dir():
        print("run `npm ci` in core/frontend first", file=sys.stderr)
        return 1
    versions = locked_versions()
    manifest: dict[str, dict[str, object]] = {}
    for package, files in FILES.items():
        info = json.loads((modules / package / "package.json").read_text())
        installed = info["version"]
        if installed != versions[package]:
            print(f"{package}: node_modules has {installed}, the lock file {versions[package]}; "
                  "run `npm ci`", file=sys.stderr)
            return 1
        target = VENDOR / package.replace("/", "__")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for source, name in files.items():
            shutil.copyfile(modules / package / source, target / name)
        manifest[package] = {"version": installed, "license": info["license"], "files": {
            name: digest(target / name) for name in sorted(p.name for p in target.iterdir())}}
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"copied {len(manifest)} packages into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
