"""Point in polygon: edges, vertices, a concave polygon, and properties."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st
from jimu_regional_pricing.geometry import area, contains
from jimu_regional_pricing.inheritance import ParamRow, ZoneRow, group_conflicts

SQUARE = [(D(0), D(0)), (D(10), D(0)), (D(10), D(10)), (D(0), D(10))]
# A "U": the notch x in (3, 7), y in (4, 10] is outside.
U_SHAPE = [(D(0), D(0)), (D(10), D(0)), (D(10), D(10)), (D(7), D(10)), (D(7), D(4)),
           (D(3), D(4)), (D(3), D(10)), (D(0), D(10))]


def p(x, y):
    return (D(str(x)), D(str(y)))


def test_points_inside_and_outside_a_square():
    assert contains(SQUARE, p(5, 5))
    assert not contains(SQUARE, p(11, 5))
    assert not contains(SQUARE, p(-0.000001, 5))
    assert not contains(SQUARE, p(5, 10.000001))


def test_edges_and_vertices_count_as_inside():
    for point in [p(0, 0), p(10, 10), p(0, 10), p(5, 0), p(10, 5), p(0, 3.5), p(5, 10)]:
        assert contains(SQUARE, point), point


def test_ray_through_a_vertex_is_counted_once():
    diamond = [p(0, -5), p(5, 0), p(0, 5), p(-5, 0)]
    assert contains(diamond, p(-1, 0))  # the ray to +x passes through the vertex (5, 0)
    assert not contains(diamond, p(-6, 0))  # and through (-5, 0) and (5, 0)
    assert not contains(diamond, p(6, 0))


def test_concave_polygon_notch_is_outside():
    assert contains(U_SHAPE, p(1, 8))  # left arm
    assert contains(U_SHAPE, p(9, 8))  # right arm
    assert contains(U_SHAPE, p(5, 2))  # base
    assert not contains(U_SHAPE, p(5, 8))  # in the notch
    assert contains(U_SHAPE, p(5, 4))  # on the notch's bottom edge
    assert contains(U_SHAPE, p(3, 7))  # on the notch's left edge
    assert not contains(U_SHAPE, p(5, 11))


def test_area_of_the_u_shape():
    assert area(U_SHAPE) == D(100) - D(24)


coordinate = st.decimals(min_value=-20, max_value=20, places=3, allow_nan=False,
                         allow_infinity=False)


@given(coordinate, coordinate)
def test_a_rectangle_contains_exactly_the_points_within_its_bounds(x, y):
    rectangle = [p(-5, -3), p(7, -3), p(7, 4), p(-5, 4)]
    assert contains(rectangle, (x, y)) == (D(-5) <= x <= D(7) and D(-3) <= y <= D(4))


@given(coordinate, coordinate)
def test_the_answer_does_not_depend_on_the_starting_vertex_or_direction(x, y):
    point = (x, y)
    expected = contains(U_SHAPE, point)
    for shift in range(len(U_SHAPE)):
        ring = U_SHAPE[shift:] + U_SHAPE[:shift]
        assert contains(ring, point) == expected
        assert contains(list(reversed(ring)), point) == expected


def _row(id_, target, **values):
    return ParamRow(id=id_, target=target, target_kind="zone",
                    adjust_pct=values.get("adjust"), labour_rate=values.get("labour"),
                    currency="CNY", valid_from=None, valid_to=None)


def test_group_conflicts_need_a_shared_code_and_different_values():
    a = ZoneRow.build("A", "A", "group", ["440000", "450000"])
    b = ZoneRow.build("B", "B", "group", ["450000"])
    c = ZoneRow.build("C", "C", "group", ["460000"])
    same = [_row(1, "A", adjust=D(5)), _row(2, "B", adjust=D(5)), _row(3, "C", adjust=D(1))]
    assert group_conflicts([a, b, c], same) == []
    clash = group_conflicts([a, b, c], [_row(1, "A", adjust=D(5)), _row(2, "B", adjust=D(3))])
    assert [(x.first, x.second, x.code, x.parameter) for x in clash] == [
        ("A", "B", "450000", "adjust_pct")]
    # Different parameters set do not clash: B sets only a labour rate.
    assert group_conflicts([a, b], [_row(1, "A", adjust=D(5)),
                                    _row(2, "B", labour=D(80))]) == []


TARGETS = ["440000", "440100", "440106", "HN", "GZ", "PARK"]
ZONES = [ZoneRow.build("HN", "华南", "group", ["440000", "450000"]),
         ZoneRow.build("GZ", "广州", "group", ["440100"]),
         ZoneRow.build("PARK", "园区", "geofence", [],
                       [p(113.2, 23.0), p(113.4, 23.0), p(113.4, 23.2), p(113.2, 23.2)])]
maybe = st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=2,
                                         allow_nan=False, allow_infinity=False))


@given(st.lists(st.tuples(st.sampled_from(TARGETS), maybe, maybe), max_size=12,
                unique_by=lambda t: t[0]),
       st.randoms(use_true_random=False), st.booleans())
def test_resolution_is_independent_of_the_order_rows_were_created_in(rows, rnd, inside):
    import datetime as dt

    from jimu_regional_pricing.inheritance import Snapshot, resolve

    params = [ParamRow(id=i + 1, target=t, target_kind="zone" if t.isalpha() else "region",
                       adjust_pct=a, labour_rate=r, currency="CNY", valid_from=None,
                       valid_to=None) for i, (t, a, r) in enumerate(rows)]
    shuffled = list(params)
    rnd.shuffle(shuffled)
    location = p(113.3, 23.1) if inside else p(114, 23.1)
    args = (["440000", "440100", "440106"], ["province", "city", "district"], location,
            dt.date(2026, 6, 1), "CNY")
    first = resolve(Snapshot.build(ZONES, params, {}), *args)
    second = resolve(Snapshot.build(list(reversed(ZONES)), shuffled, {}), *args)
    assert first.values == second.values and first.zones == second.zones
    # Each value comes from the most specific target that sets it.
    order = (["PARK"] if inside else []) + ["440106", "440100", "440000", "GZ", "HN"]
    by_target = {t: (a, r) for t, a, r in rows}
    for name, index in (("adjust_pct", 0), ("labour_rate", 1)):
        expected = next((by_target[t][index] for t in order
                         if t in by_target and by_target[t][index] is not None), None)
        assert first.value(name) == expected
