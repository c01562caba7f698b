"""The national region tree (GB/T 2260 codes): loading it and reading it.

The data file ships with core (``data/regions_cn.csv``, see ``data/README.md``); migrations load it
once. Region codes are shared by every tenant, so the table is a platform table and read-only.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any

from jimu.db.tables import Region

DATA_FILE = Path(__file__).parent / "data" / "regions_cn.csv"
LEVELS = ("province", "city", "district")


def read_region_file(path: Path = DATA_FILE) -> list[dict[str, str | None]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {"code": row["code"], "name": row["name"],
             "parent_code": row["parent_code"] or None, "level": row["level"]}
            for row in csv.DictReader(handle)
        ]


async def seed_regions(batch: int = 500) -> int:
    """Insert the shipped divisions unless present; returns how many rows were written."""
    if await Region.count() > 0:
        return 0
    rows = read_region_file()
    for start in range(0, len(rows), batch):
        await Region.insert(*[Region(code=row["code"], name=row["name"],
                                     parent_code=row["parent_code"], level=row["level"])
                              for row in rows[start:start + batch]])
    return len(rows)


@functools.cache
def region_index() -> dict[str, dict[str, str | None]]:
    """Every shipped division by code, read once from the data file (it never changes at run
    time, so pricing reads ancestors from memory rather than the database)."""
    return {row["code"]: row for row in read_region_file()}  # type: ignore[misc]


def ancestor_codes(code: str) -> tuple[str, ...]:
    """Codes from the province down to ``code``; empty for an unknown code."""
    index = region_index()
    chain: list[str] = []
    current: str | None = code
    while current and current in index:
        chain.append(current)
        current = index[current]["parent_code"]
    return tuple(reversed(chain))


def region_chain(code: str) -> list[dict[str, Any]]:
    """The divisions from the province down to ``code`` (code, name, level, parent_code)."""
    index = region_index()
    return [dict(index[c]) for c in ancestor_codes(code)]
