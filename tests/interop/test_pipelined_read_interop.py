"""NiBabel-written .nii.gz files (one gzip stream) read with the conversion running
piece by piece beside the inflate give NiBabel's values, whatever the shape,
stored type, scaling and piece boundaries."""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voxelio as vx
from voxelio import _pipeline, proxy


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(proxy, "CHUNK_BYTES", 512)  # pipelined from 512 bytes on
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(2, 19), min_size=3, max_size=4).map(tuple),
    stored=st.sampled_from(["int16", "uint8", "float32", "int32"]),
    scaling=st.sampled_from([None, (2.0, 0.0), (0.25, -7.5), (1.0, 100.0)]),
    piece=st.integers(7, 3000),
    seed=st.integers(0, 2**16),
)
def test_get_fdata_and_scaled_asarray_equal_nibabel(tmp_path_factory, small_pieces, monkeypatch,
                                                    shape, stored, scaling, piece, seed):
    monkeypatch.setattr(_pipeline, "PIECE_BYTES", piece)
    rng = np.random.default_rng(seed)
    data = (rng.random(shape) * 120).astype(stored)
    img = nib.Nifti1Image(data, np.eye(4))
    img.set_data_dtype(np.dtype(stored))
    if scaling is not None:
        img.header.set_slope_inter(*scaling)
    path = str(tmp_path_factory.mktemp("nib") / "img.nii.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nib.save(img, path)
    ours, theirs = vx.load(path), nib.load(path)
    expected = theirs.get_fdata()
    np.testing.assert_array_equal(ours.get_fdata(), expected)
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(theirs.dataobj))
    # float32 values are rounded once from the float64 ones (docs/differences.md)
    np.testing.assert_array_equal(ours.get_fdata(dtype=np.float32),
                                  expected.astype(np.float32))
