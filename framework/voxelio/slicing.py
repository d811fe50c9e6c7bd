"""Planning which bytes of a stored array an index needs.

An index (ints, slices with any step, Ellipsis, None) on a stored N-d array
selects a strided box of elements. :func:`plan_index` normalises the index
to one positive-step :class:`AxisPick` per stored axis; :func:`box_span`
gives the byte range of the box in the file, so a reader fetches only that
range (or, for sparse picks along the slowest axis, one range per pick).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._records import FrozenRecord
from .errors import ImageDataError


class AxisPick(FrozenRecord):
    """Elements ``start, start + step, ...`` (``count`` of them) of one axis."""

    _fields = ("start", "count", "step", "drop", "flip")

    def __init__(
        self, start: int, count: int, step: int, drop: bool = False, flip: bool = False
    ) -> None:
        # drop: an integer index, the axis disappears from the result;
        # flip: a negative-step slice, reversed after reading
        vars(self).update(start=start, count=count, step=step, drop=drop, flip=flip)

    @property
    def last(self) -> int:
        return self.start + (self.count - 1) * self.step


class IndexPlan(FrozenRecord):
    """A basic index resolved against a shape."""

    _fields = ("picks", "newaxes")

    def __init__(self, picks: tuple[AxisPick, ...], newaxes: tuple[int, ...]) -> None:
        # newaxes: positions of None in the result
        vars(self).update(picks=picks, newaxes=newaxes)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(p.count for p in self.picks)

    def is_full(self, shape: Sequence[int]) -> bool:
        return not self.newaxes and all(
            p.start == 0 and p.step == 1 and p.count == n and not p.drop and not p.flip
            for p, n in zip(self.picks, shape, strict=False)
        )

    def finish(self, box: np.ndarray) -> np.ndarray:
        """Turn the read box into the indexed result: flips, dropped and new axes."""
        flips = tuple(slice(None, None, -1) if p.flip else slice(None) for p in self.picks)
        if any(p.flip for p in self.picks):
            box = box[flips]
        kept = tuple(0 if p.drop else slice(None) for p in self.picks)
        result = box[kept]
        for position in self.newaxes:
            result = np.expand_dims(result, position)
        return result


def is_fancy(index: Any) -> bool:
    """True if ``index`` holds arrays, lists or booleans (numpy advanced indexing)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            continue
        if isinstance(item, (bool, np.bool_)):
            return True
        try:
            operator.index(item)
        except TypeError:
            return True
    return False


def plan_index(index: Any, shape: Sequence[int]) -> IndexPlan:
    """Resolve a basic index (no arrays) against ``shape``.

    Raises
    ------
    IndexError
        For too many indices, integers out of range, several Ellipses or a
        zero step, with numpy's meaning.
    """
    items = list(index) if isinstance(index, tuple) else [index]
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    n_real = sum(item is not None and item is not Ellipsis for item in items)
    if n_real > len(shape):
        raise IndexError(
            f"too many indices: array is {len(shape)}-dimensional, but {n_real} were indexed"
        )
    if Ellipsis in items:
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        items[at : at + 1] = [slice(None)] * (len(shape) - n_real)
    else:
        items += [slice(None)] * (len(shape) - n_real)
    picks: list[AxisPick] = []
    newaxes: list[int] = []
    out_axis = 0
    for item in items:
        if item is None:
            newaxes.append(out_axis)
            out_axis += 1
            continue
        length = shape[len(picks)]
        if isinstance(item, slice):
            picks.append(_slice_pick(item, length))
            out_axis += 1
        else:
            i = operator.index(item)
            if not -length <= i < length:
                raise IndexError(
                    f"index {i} is out of bounds for axis {len(picks)} with size {length}"
                )
            picks.append(AxisPick(i % length, 1, 1, drop=True))
    return IndexPlan(tuple(picks), tuple(newaxes))


def _slice_pick(item: slice, length: int) -> AxisPick:
    start, stop, step = item.indices(length)
    count = len(range(start, stop, step))
    if count == 0:
        return AxisPick(0, 0, 1)
    if step > 0:
        return AxisPick(start, count, step)
    first = start + (count - 1) * step
    return AxisPick(first, count, -step, flip=True)


def layout_strides(shape: Sequence[int], itemsize: int, order: str) -> tuple[int, ...]:
    """Byte strides of an array stored contiguously in ``order`` ('F' or 'C')."""
    strides = [0] * len(shape)
    step = itemsize
    axes = range(len(shape)) if order == "F" else reversed(range(len(shape)))
    for axis in axes:
        strides[axis] = step
        step *= max(int(shape[axis]), 1)
    return tuple(strides)


def slowest_axis(ndim: int, order: str) -> int:
    """The axis whose elements lie furthest apart on disk."""
    return ndim - 1 if order == "F" else 0


def box_span(picks: Sequence[AxisPick], strides: Sequence[int], itemsize: int) -> tuple[int, int]:
    """Byte offset (from the array start) and length covering the picked box."""
    first = sum(p.start * s for p, s in zip(picks, strides, strict=False))
    last = sum(p.last * s for p, s in zip(picks, strides, strict=False))
    return first, last - first + itemsize


def is_contiguous_box(picks: Sequence[AxisPick], shape: Sequence[int], order: str) -> bool:
    """True if the picked box is one contiguous run of the stored array."""
    axes = list(range(len(shape))) if order == "F" else list(reversed(range(len(shape))))
    for k, axis in enumerate(axes):
        p = picks[axis]
        full = p.start == 0 and p.count == shape[axis] and p.step == 1
        if full:
            continue
        # a partial axis: everything slower must be a single element
        if p.step != 1 and p.count > 1:
            return False
        return all(picks[a].count == 1 for a in axes[k + 1 :])
    return True


def split_sparse(
    picks: Sequence[AxisPick],
    slow: int,
    strides: Sequence[int],
    itemsize: int,
    sparse_factor: float = 2,
) -> Iterator[tuple[tuple[Any, ...], tuple[AxisPick, ...]]]:
    """One box for the whole pick, or one per pick of the slowest axis when sparse.

    Reading through is chosen unless it would fetch more than
    ``sparse_factor`` times the bytes the picks need.
    """
    p = picks[slow]
    _whole_start, whole_len = box_span(picks, strides, itemsize)
    one = list(picks)
    one[slow] = AxisPick(p.start, 1, 1)
    _, one_len = box_span(one, strides, itemsize)
    everything = tuple(slice(None) for _ in picks)
    if p.count == 1 or whole_len <= sparse_factor * p.count * one_len:
        yield everything, tuple(picks)
        return
    for i in range(p.count):
        one[slow] = AxisPick(p.start + i * p.step, 1, 1)
        target = list(everything)
        target[slow] = slice(i, i + 1)
        yield tuple(target), tuple(one)


def check_order(order: str) -> str:
    """Validate a memory order string."""
    order = str(order).upper()
    if order not in ("F", "C"):
        raise ImageDataError(f"array order must be 'F' or 'C', not {order!r}")
    return order
