"""Data written and read by voxelio's fast paths equal NiBabel's, whatever the layout.

Shapes, dtypes and memory orders are drawn by hypothesis; each example runs
with the default codecs and with the standard library only, and crosses the
two libraries both ways (voxelio writes, NiBabel reads; NiBabel writes,
voxelio reads), in blocked and single-stream gzip and in .mgz.
"""

from __future__ import annotations

import gzip
import os
import tempfile

import nibabel as nib
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voxelio as vx
from voxelio import codecs, writing

_DTYPES = ["uint8", "int16", "int32", "float32", "float64"]


@st.composite
def volumes(draw) -> np.ndarray:
    ndim = draw(st.integers(2, 4))
    shape = tuple(draw(st.lists(st.integers(1, 23), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    data = np.cumsum(rng.integers(-3, 4, size=shape), axis=0) + 50
    data = np.clip(data, 0, 250).astype(dtype)
    order = draw(st.sampled_from(["C", "F"]))
    return np.ascontiguousarray(data) if order == "C" else np.asfortranarray(data)


def _trim(shape: tuple[int, ...]) -> tuple[int, ...]:
    while len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def _same(read: np.ndarray, data: np.ndarray) -> bool:
    """Equal values and value type; MGH adds or drops trailing axes of length 1."""
    same_type = read.dtype.newbyteorder("=") == data.dtype.newbyteorder("=")
    same_shape = _trim(read.shape) == _trim(data.shape)
    return same_type and same_shape and np.array_equal(read.reshape(data.shape), data)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=volumes(), small_chunks=st.booleans())
def test_voxelio_writes_what_nibabel_reads_and_back(codec_mode, data, small_chunks, monkeypatch):
    if small_chunks:  # many slabs, tiles and gzip members even for small volumes
        monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 97)
    affine = np.diag([2.0, 2.0, 3.0, 1.0])
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".nii.gz", ".mgz"):
            if suffix == ".mgz" and (data.ndim < 3 or data.shape[3:] == (1,)
                                     or data.dtype == np.float64):
                continue  # MGH stores no float64; NiBabel writes MGH only as 3-D or 4-D
            vx_path = os.path.join(folder, "vx" + suffix)
            klass = vx.Nifti1Image if suffix == ".nii.gz" else vx.MGHImage
            vx.save(klass(data, affine), vx_path)
            theirs = np.asanyarray(nib.load(vx_path).dataobj)
            assert _same(theirs, data)
            with open(vx_path, "rb") as f:
                plain = gzip.decompress(f.read())  # any gzip reader reads it
            if suffix == ".nii.gz":  # data at the end, in the header's (native) byte order
                assert plain[-data.nbytes :] == data.tobytes(order="F")
            else:  # MGH: big-endian data after the 284-byte header, tags after them
                stored = data.astype(data.dtype.newbyteorder(">")).tobytes(order="F")
                assert plain[284 : 284 + data.nbytes] == stored
            nib_path = os.path.join(folder, "nib" + suffix)
            nklass = nib.Nifti1Image if suffix == ".nii.gz" else nib.MGHImage
            nib.save(nklass(data, affine), nib_path)
            for path in (vx_path, nib_path):
                img = vx.load(path)
                ours = np.asarray(img.dataobj)
                assert _same(ours, data)
                assert _same(vx.load(path).get_fdata(), data.astype(np.float64))


def test_single_stream_gzip_saves_read_back(tmp_path, codec_mode):
    data = np.asfortranarray(np.arange(7 * 9 * 11, dtype=np.int16).reshape(7, 9, 11))
    path = tmp_path / "one.nii.gz"
    with codecs.opened(path, "wb", "gzip", gzip_blocks=False) as f:
        writing.write_array(np.ascontiguousarray(data), f, "<i2")
    assert np.frombuffer(gzip.decompress(path.read_bytes()), "<i2").tobytes() == data.tobytes("F")
