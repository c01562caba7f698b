"""China's public holidays and make-up working days, as published each year (see
``data/holidays_cn/README.md`` for the source and licence)."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "holidays_cn"


def available_years() -> list[int]:
    """Years whose notice is shipped (a file with at least one day)."""
    return sorted(year for year in (int(p.stem) for p in DATA.glob("[0-9][0-9][0-9][0-9].json"))
                  if china_days(year))


@cache
def _load(year: int) -> dict[str, Any]:
    path = DATA / f"{year}.json"
    if not path.is_file():
        return {"year": year, "papers": [], "days": []}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def china_days(year: int) -> list[dict[str, Any]]:
    """``[{date, kind: holiday|workday, name}]`` of the notice of ``year``, by date."""
    return [{"date": dt.date.fromisoformat(day["date"]),
             "kind": "holiday" if day["isOffDay"] else "workday", "name": day["name"]}
            for day in sorted(_load(year)["days"], key=lambda d: d["date"])]


def china_papers(year: int) -> list[str]:
    """The State Council notice(s) the days of ``year`` come from."""
    return list(_load(year)["papers"])
