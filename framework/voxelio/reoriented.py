"""A lazy flipped/transposed view of an array proxy.

``img.as_reoriented(ornt)`` on a proxy image must not read the data: the
new image's ``dataobj`` is a :class:`ReorientedProxy`, which turns every
index on the reoriented array into an index on the stored one, reads only
that box through the underlying proxy, and flips/transposes the (small)
result in memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .orientation import _as_ornt, apply_orientation, is_identity
from .slicing import is_fancy, plan_index


class ReorientedProxy:
    """``apply_orientation(base, ornt)`` computed on demand, box by box.

    Parameters
    ----------
    base : array proxy
        What to view (anything with ``shape``, ``dtype``, ``__getitem__`` and
        ``__array__``; a voxelio or NiBabel array proxy).
    ornt : (n, 2) array-like
        The orientation applied to the first ``n`` axes of ``base``.

    Notes
    -----
    The stored dtype, scaling (``slope``, ``inter``) and ``scaled_dtype``
    are those of ``base``; ``get_unscaled()`` gives the reoriented stored
    values, so a save keeps the stored type and scaling.
    """

    is_proxy = True

    def __init__(self, base: Any, ornt: Any) -> None:
        ornt = _as_ornt(ornt)
        if isinstance(base, ReorientedProxy):
            # compose: view the original proxy once rather than a chain of views
            ornt = _compose(base.ornt, ornt)
            base = base.base
        if len(ornt) > len(base.shape):
            raise ValueError(f"orientation has {len(ornt)} rows for a {len(base.shape)}-d proxy")
        self.base = base
        self.ornt = ornt
        n = len(ornt)
        base_shape = tuple(int(s) for s in base.shape)
        shape = list(base_shape)
        for axis, target in enumerate(ornt[:, 0].astype(int)):
            shape[target] = base_shape[axis]
        self._shape = tuple(shape)
        # reoriented axis k shows base axis source[k]
        self._source = np.empty(n, dtype=int)
        self._source[ornt[:, 0].astype(int)] = np.arange(n)

    # -- array-like attributes -----------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> np.dtype:
        """The stored dtype of the underlying proxy."""
        return np.dtype(self.base.dtype)

    @property
    def scaled_dtype(self) -> np.dtype:
        """The dtype ``np.asarray(view)`` returns (that of the underlying proxy)."""
        found = getattr(self.base, "scaled_dtype", None)
        if found is not None:
            return np.dtype(found)
        return np.asarray(self.base[(slice(0, 0),) * len(self.base.shape)]).dtype

    @property
    def slope(self) -> float:
        return float(getattr(self.base, "slope", 1.0))

    @property
    def inter(self) -> float:
        return float(getattr(self.base, "inter", 0.0))

    @property
    def size(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d proxy")
        return self._shape[0]

    def __repr__(self) -> str:
        return f"<ReorientedProxy ornt={self.ornt.tolist()} of {self.base!r}>"

    # -- reading -------------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = np.asarray(self.base, dtype=dtype) if dtype is not None else np.asarray(self.base)
        return np.ascontiguousarray(apply_orientation(data, self.ornt)) if data.ndim else data

    def get_unscaled(self) -> np.ndarray:
        """The stored values, reoriented."""
        return apply_orientation(self.base.get_unscaled(), self.ornt)

    def __getitem__(self, index: Any) -> np.ndarray:
        if is_fancy(index):
            return np.asarray(self)[index]
        plan = plan_index(index, self._shape)
        n = len(self.ornt)
        directions = self.ornt[:, 1]
        base_index: list[slice] = [slice(None)] * len(self._shape)
        flip_after = [False] * len(self._shape)
        for axis, pick in enumerate(plan.picks):
            source = int(self._source[axis]) if axis < n else axis
            flipped = axis < n and directions[source] < 0
            length = self.base.shape[source]
            if pick.count == 0:
                base_index[source] = slice(0, 0)
                continue
            first, last = pick.start, pick.last
            if flipped:
                # view index i is base index length - 1 - i
                first, last = length - 1 - last, length - 1 - first
            base_index[source] = slice(first, last + 1, pick.step)
            flip_after[axis] = pick.flip != flipped
        box = np.asarray(self.base[tuple(base_index)])
        order = [int(self._source[a]) if a < n else a for a in range(len(self._shape))]
        box = box.transpose(order)
        if any(flip_after):
            box = box[tuple(slice(None, None, -1) if f else slice(None) for f in flip_after)]
        box = box[tuple(0 if p.drop else slice(None) for p in plan.picks)]
        for position in plan.newaxes:
            box = np.expand_dims(box, position)
        return box


def reorient_dataobj(dataobj: Any, ornt: Any) -> Any:
    """``dataobj`` reoriented: a lazy view of a proxy, a view of an array.

    A view of a view is collapsed into one view of the original proxy, and
    a view that undoes another gives the original proxy back.
    """
    from .proxy import is_proxy

    ornt = _as_ornt(ornt)
    if not is_proxy(dataobj):
        return apply_orientation(np.asanyarray(dataobj), ornt)
    if isinstance(dataobj, ReorientedProxy):
        combined = _compose(dataobj.ornt, ornt)
        if is_identity(combined):
            return dataobj.base
    return ReorientedProxy(dataobj, ornt)


def _compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The orientation of applying ``first``, then ``second`` (padded to equal length)."""
    n = max(len(first), len(second))
    a, b = _padded(first, n), _padded(second, n)
    out = np.empty_like(a)
    for axis, (target, direction) in enumerate(a):
        t = int(target)
        out[axis] = (b[t, 0], direction * b[t, 1])
    return out


def _padded(ornt: np.ndarray, n: int) -> np.ndarray:
    if len(ornt) == n:
        return ornt
    extra = np.column_stack([np.arange(len(ornt), n), np.ones(n - len(ornt))])
    return np.vstack([ornt, extra])


__all__ = ["ReorientedProxy", "reorient_dataobj"]
