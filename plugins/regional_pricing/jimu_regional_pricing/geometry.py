"""Point in polygon for geofence zones, exact on Decimal coordinates.

Coordinates are ``(lng, lat)`` pairs of ``Decimal``. The test uses only products and
comparisons (no division), so a point exactly on an edge or a vertex is decided exactly: it
counts as inside (a store on the boundary of its park belongs to the park).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

Point = tuple[Decimal, Decimal]


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    return (cross == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def contains(polygon: Sequence[Point], p: Point) -> bool:
    """Whether ``p`` lies inside ``polygon`` or on its boundary (ray casting to +lng).

    The polygon is a closed ring given without repeating its first point; it may be concave.
    """
    n = len(polygon)
    inside = False
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _on_segment(p, a, b):
            return True
        if (a[1] > p[1]) != (b[1] > p[1]):
            # The edge crosses the horizontal line through p; is the crossing right of p?
            # p.x < a.x + (b.x - a.x) * (p.y - a.y) / (b.y - a.y), without dividing.
            d = b[1] - a[1]
            lhs = (p[0] - a[0]) * d
            rhs = (b[0] - a[0]) * (p[1] - a[1])
            if (lhs < rhs) if d > 0 else (lhs > rhs):
                inside = not inside
    return inside


def bounding_box(polygon: Sequence[Point]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    lngs = [p[0] for p in polygon]
    lats = [p[1] for p in polygon]
    return min(lngs), min(lats), max(lngs), max(lats)


def area(polygon: Sequence[Point]) -> Decimal:
    """Unsigned shoelace area in square degrees (orders overlapping geofences: smaller first)."""
    n = len(polygon)
    twice = sum((polygon[i][0] * polygon[(i + 1) % n][1]
                 - polygon[(i + 1) % n][0] * polygon[i][1] for i in range(n)), Decimal(0))
    return abs(twice) / 2
