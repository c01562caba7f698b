"""The national region tree (GB/T 2260 codes): loading it and reading it.

The data file ships with core (``data/regions_cn.csv``, see ``data/README.md``); migrations load it
once. Region codes are shared by every tenant, so the table is a platform table and read-only.
"""

from __future__ import annotations

import csv
from pathlib import Path

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


async def region_path(code: str) -> list[dict]:
    """The chain from the province down to ``code`` (e.g. 上海市 › 市辖区 › 浦东新区)."""
    chain: list[dict] = []
    current: str | None = code
    while current:
        row = await Region.select().where(Region.code == current).first()
        if row is None:
            break
        chain.append(row)
        current = row["parent_code"]
    return list(reversed(chain))
