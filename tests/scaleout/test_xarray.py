"""The xarray backend (engine="voxelio"), found through its entry point."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import voxelio as vx

xr = pytest.importorskip("xarray")


def _save(path, shape=(6, 5, 4, 3), affine=None, seed=0, scaled=True):
    data = np.random.default_rng(seed).integers(0, 300, shape).astype(np.int16)
    aff = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])
    img = vx.Nifti1Image(data, aff if affine is None else affine)
    if scaled:
        img.header.set_slope_inter(0.25, 3.0)
    vx.save(img, path)
    return data * 0.25 + 3.0 if scaled else data, img.affine


def test_entry_point_registers_engine_and_guesses(tmp_path):
    from xarray.backends import list_engines

    assert "voxelio" in list_engines()
    _save(tmp_path / "a.nii.gz")
    entry = list_engines()["voxelio"]
    assert entry.guess_can_open(str(tmp_path / "a.nii.gz"))
    (tmp_path / "notes.txt").write_text("not an image")
    assert not entry.guess_can_open(str(tmp_path / "notes.txt"))
    # no engine named: xarray asks the backends, voxelio's sniffing answers
    ds = xr.open_dataset(tmp_path / "a.nii.gz")
    assert ds.data.dims == ("i", "j", "k", "t")
    ds.close()


def test_open_dataarray_lazy_values_coords_attrs(tmp_path):
    expected, affine = _save(tmp_path / "a.nii.gz")
    da = xr.open_dataarray(tmp_path / "a.nii.gz", engine="voxelio")
    assert da.dims == ("i", "j", "k", "t")
    assert da.dtype == np.float64
    assert not da.variable._in_memory  # lazy: nothing read at open
    assert np.array_equal(da.isel(t=1, k=slice(1, 3)).values, expected[:, :, 1:3, 1])
    assert np.array_equal(da.values, expected)
    assert np.allclose(da.x.values, 90 - 2.0 * np.arange(6))
    assert da.x.dims == ("i",) and da.z.dims == ("k",)
    assert "x" not in da.indexes  # non-index coordinates
    assert np.allclose(da.attrs["affine"], affine)
    assert da.attrs["format_name"] == "nifti1"
    assert da.attrs["stored_dtype"] == "int16"
    assert da.attrs["scl_slope"] == 0.25
    da.close()


def test_oblique_affine_has_no_world_coords(tmp_path):
    theta = np.deg2rad(20)
    aff = np.eye(4)
    aff[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    _save(tmp_path / "o.nii", shape=(4, 4, 4), affine=aff, scaled=False)
    ds = xr.open_dataset(tmp_path / "o.nii", engine="voxelio")
    assert set(ds.coords) == set()
    assert ds.data.dims == ("i", "j", "k")
    assert np.allclose(ds.attrs["affine"], aff, atol=1e-6)
    ds.close()


def _backend_proxy(variable):
    """The voxelio proxy under xarray's wrappers (CopyOnWrite, MemoryCached, LazilyIndexed)."""
    inner = variable._data
    for _ in range(10):
        if hasattr(inner, "proxy"):
            return inner.proxy
        inner = inner.array
    raise AssertionError("no VoxelioArray under the variable")


def test_drop_variables_and_close(tmp_path):
    _save(tmp_path / "a.nii.gz")
    ds = xr.open_dataset(tmp_path / "a.nii.gz", engine="voxelio", drop_variables=["data", "y"])
    assert "data" not in ds and "y" not in ds.coords and "x" in ds.coords
    ds.close()
    ds = xr.open_dataset(tmp_path / "a.nii.gz", engine="voxelio")
    assert ds.data.isel(t=0).values.size  # reads: the compressed file is kept open
    proxy = _backend_proxy(ds.data.variable)
    assert proxy._kept is not None
    ds.close()
    assert proxy._kept is None  # closed with the dataset
    gc.collect()


def test_open_mfdataset_over_subjects(tmp_path):
    pytest.importorskip("dask")
    expected = [_save(tmp_path / f"sub-{s}.nii.gz", seed=s)[0] for s in range(3)]
    ds = xr.open_mfdataset(sorted(str(p) for p in tmp_path.glob("sub-*.nii.gz")),
                           engine="voxelio", combine="nested", concat_dim="subject")
    assert ds.data.dims == ("subject", "i", "j", "k", "t")
    assert ds.data.chunks is not None  # dask-backed
    mean = ds.data.mean("t").compute()
    assert np.allclose(mean.values, np.stack([e.mean(axis=-1) for e in expected]))
    ds.close()
