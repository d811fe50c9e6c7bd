"""An xarray backend: ``xr.open_dataset(path, engine="voxelio")`` (``voxelio[xarray]``).

Registered through the ``xarray.backends`` entry point, so xarray finds it
without an import; ``import voxelio`` never imports xarray.

The dataset has one data variable, ``data`` (the image's scaled values),
read lazily: only the part indexed is read from the file, through the
image's proxy. Its dimensions are named ``i``, ``j``, ``k`` (voxel axes),
``t`` (the fourth axis: time or volumes) and ``dim4``, ``dim5``... beyond.

Coordinates: when the affine is axis-aligned (each voxel axis moves along
one world axis: no rotation or shear), the world coordinates ``x``, ``y``,
``z`` (millimetres, in the affine's space) are non-index coordinates on
``i``, ``j``, ``k`` (``x`` on the voxel axis that moves along world x...).
For an oblique affine there are no world coordinates (they would be 3-D
arrays); the ``affine`` attribute gives them.

Attributes: ``affine`` (4x4 array), ``zooms``, ``format_name``,
``stored_dtype``, ``scl_slope``/``scl_inter`` (when scaled), ``filename``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from xarray import Dataset, Variable
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

#: names of the voxel axes, in order; axes beyond get ``dim4``, ``dim5``...
DIMS = ("i", "j", "k", "t")
#: the data variable's name
VARIABLE = "data"
WORLD = ("x", "y", "z")


def dim_names(ndim: int) -> tuple[str, ...]:
    """``('i', 'j', 'k', 't', 'dim4', ...)`` cut to ``ndim``."""
    return tuple(DIMS[n] if n < len(DIMS) else f"dim{n}" for n in range(ndim))


class VoxelioArray(BackendArray):
    """The image's proxy as an xarray backend array (basic indexing, read on demand)."""

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.shape = tuple(proxy.shape)
        self.dtype = np.dtype(proxy.scaled_dtype)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple[Any, ...]) -> np.ndarray:
        return np.asarray(self.proxy.read(key, dtype=self.dtype))


def world_coords(affine: np.ndarray, shape: tuple[int, ...]) -> dict[str, tuple[str, Any]]:
    """``{'x': ('i', values), ...}`` for an axis-aligned affine; empty otherwise."""
    if affine is None or len(shape) < 3:
        return {}
    rot = np.asarray(affine)[:3, :3]
    nonzero = rot != 0
    if not (nonzero.sum(axis=0) == 1).all() or not (nonzero.sum(axis=1) == 1).all():
        return {}  # oblique: each world coordinate depends on several voxel axes
    coords = {}
    for axis in range(3):
        world = int(np.flatnonzero(nonzero[:, axis])[0])
        values = rot[world, axis] * np.arange(shape[axis]) + affine[world, 3]
        coords[WORLD[world]] = (DIMS[axis], values)
    return coords


def _attrs(img: Any, source: Any) -> dict[str, Any]:
    proxy = img.dataobj
    attrs: dict[str, Any] = {
        "affine": None if img.affine is None else np.asarray(img.affine),
        "zooms": tuple(float(z) for z in img.header.get_zooms()),
        "format_name": getattr(img, "format_name", ""),
        "stored_dtype": str(np.dtype(img.get_data_dtype())),
    }
    if getattr(proxy, "is_scaled", False):
        attrs.update(scl_slope=float(proxy.slope), scl_inter=float(proxy.inter))
    if isinstance(source, (str, os.PathLike)):
        attrs["filename"] = os.fspath(source)
    return attrs


def open_voxelio_dataset(
    source: Any, *, drop_variables: Iterable[str] | None = None, **load_options: Any
) -> Dataset:
    """The dataset of one image (see the module notes); closing it closes the file."""
    from ..api import load
    from ..proxy import is_proxy

    img = load(source, **load_options)
    proxy = img.dataobj
    drop = set(drop_variables or ())
    dims = dim_names(len(img.shape))
    attrs = _attrs(img, source)
    data_vars = {}
    if VARIABLE not in drop:
        if is_proxy(proxy):
            values: Any = indexing.LazilyIndexedArray(VoxelioArray(proxy))
        else:
            values = np.asarray(proxy)
        data_vars[VARIABLE] = Variable(dims, values, attrs=dict(attrs))
    coords = {
        name: Variable((dim,), values, attrs={"units": "mm"})
        for name, (dim, values) in world_coords(img.affine, img.shape).items()
        if name not in drop
    }
    ds = Dataset(data_vars, coords=coords, attrs=attrs)
    close = getattr(proxy, "close", None)
    if close is not None:
        ds.set_close(close)
    return ds


class VoxelioBackendEntrypoint(BackendEntrypoint):
    """xarray's ``engine="voxelio"``: every format voxelio reads, lazily."""

    description = "Neuro-imaging volumes (NIfTI, Analyze, MGH... any voxelio format)"
    url = "https://voxelio.readthedocs.io"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(  # type: ignore[override]
        self, filename_or_obj: Any, *, drop_variables: Iterable[str] | None = None,
        **load_options: Any,
    ) -> Dataset:
        return open_voxelio_dataset(
            filename_or_obj, drop_variables=drop_variables, **load_options
        )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """True when some voxelio format would read the file (voxelio's sniffing)."""
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        path = os.fspath(filename_or_obj)
        if not os.path.isfile(path):
            return False
        from ..api import sniff

        try:
            return any(candidate.accepted for candidate in sniff(path))
        except Exception:
            return False


__all__ = ["DIMS", "VARIABLE", "VoxelioArray", "VoxelioBackendEntrypoint", "dim_names",
           "open_voxelio_dataset", "world_coords"]
