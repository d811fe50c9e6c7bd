"""Hypothesis strategies for NumPy basic indices (ints, slices, Ellipsis, None)."""

from __future__ import annotations

from hypothesis import strategies as st


def axis_index(n: int):
    """An int or a slice (any bounds, steps -3..3) for an axis of length ``n``."""
    ints = st.integers(-n, n - 1)
    bounds = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    steps = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))
    return st.one_of(ints, st.builds(slice, bounds, bounds, steps))


@st.composite
def indices(draw, shape: tuple[int, ...]) -> tuple:
    """A basic index tuple for an array of ``shape``: per-axis items, maybe an
    Ellipsis standing for some axes or fewer items than axes, maybe a None."""
    items = [draw(axis_index(n)) for n in shape]
    if draw(st.booleans()):
        # Ellipsis stands for axes a..b-1; the items after it index the trailing axes
        a = draw(st.integers(0, len(items)))
        b = draw(st.integers(a, len(items)))
        items = [*items[:a], Ellipsis, *items[b:]]
    else:
        items = items[: draw(st.integers(0, len(items)))]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)
