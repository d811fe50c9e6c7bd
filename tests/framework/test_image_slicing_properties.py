"""Property tests: indexing a loaded image's dataobj equals indexing its whole array.

For every first-party format and every codec its names allow (plain,
voxelio's blocked gzip, single-stream gzip, bzip2, zstd), and for each way
of reaching a file (name, open file object, ``memory://`` URL), hypothesis
draws the data (shape, dtype, values) and basic indices (ints, slices with
steps and out-of-range bounds, Ellipsis, None). ``img.dataobj[idx]`` must
equal both ``np.asarray(img.dataobj)[idx]`` and the saved data's
``data[idx]``: the compressed random-access readers (member table, seek
index) and the memory-mapped reads take other paths than a full read.
:mod:`tests.framework.test_proxy_properties` checks ``ArrayProxy`` alone on
raw bytes; this goes through ``voxelio.save`` and ``voxelio.load``.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from index_strategies import indices

import voxelio as vx
from voxelio import codecs

SCRATCH = tempfile.mkdtemp(prefix="voxelio-slicing-props-")
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: (target suffix, save options): each format with each codec its names allow
TARGETS = [
    (".nii", {}),
    (".nii.gz", {"gzip_blocks": 64}),  # voxelio's blocked gzip, many small members
    (".nii.gz", {"gzip_blocks": False}),  # one ordinary gzip stream, as other tools write
    (".nii.bz2", {}),
    *([(".nii.zst", {})] if "zstd" in codecs.available_codecs() else []),  # voxelio[fast]
    (".img", {}),  # a NIfTI-1 pair
    (".img.gz", {"gzip_blocks": 64}),
    (".mgh", {}),
    (".mgz", {"gzip_blocks": 64}),
    (".mgz", {"gzip_blocks": False}),
]
#: image classes by name (the NIfTI-2 and Analyze pairs share the suffixes above)
CLASSES = {"nifti1": "Nifti1Image", "nifti2": "Nifti2Image", "analyze": "AnalyzeImage",
           "mgh": "MGHImage"}
#: the dtypes each class stores (MGH has neither int8 nor float64; Analyze no uint16)
DTYPES = {"nifti1": ["u1", "i1", "i2", "u2", "i4", "f4", "f8"],
          "nifti2": ["u1", "i2", "i4", "f4", "f8"],
          "analyze": ["u1", "i2", "i4", "f4", "f8"],
          "mgh": ["u1", "i2", "i4", "f4"]}


def _classes_for(suffix: str) -> list[str]:
    if suffix.startswith((".mgh", ".mgz")):
        return ["mgh"]
    if suffix.startswith(".img"):
        return ["nifti1", "analyze"]
    return ["nifti1", "nifti2"]


CASES = [(suffix, options, name) for suffix, options in TARGETS for name in _classes_for(suffix)]


@st.composite
def volumes(draw, kind: str) -> np.ndarray:
    # MGH keeps 3 axes or more; Analyze stores the affine of 3-D and 4-D data only
    ndim = draw(st.integers(3, 4)) if kind in ("mgh", "analyze") else draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES[kind])))
    values = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) * 7 - 50
    if dtype.kind == "u":
        values = values % 200
    elif dtype.itemsize == 1:
        values = values % 120
    return values.astype(dtype)




def _saved(data: np.ndarray, suffix: str, options: dict, kind: str) -> str:
    klass = getattr(vx, CLASSES[kind])
    affine = np.diag([-2.0 if kind == "analyze" else 2.0, 2.0, 3.0, 1.0])
    path = os.path.join(SCRATCH, uuid.uuid4().hex + suffix)
    vx.save(klass(data, affine), path, **options)
    return path


def _memory_url(path: str) -> str:
    """Copy the file (and a pair's header) into fsspec's memory file system; its URL."""
    import fsspec

    fs = fsspec.filesystem("memory")
    folder = "/slicing-props/" + uuid.uuid4().hex
    stem = os.path.basename(path)
    for name in os.listdir(SCRATCH):
        if name.split(".")[0] == stem.split(".")[0]:
            with open(os.path.join(SCRATCH, name), "rb") as f:
                fs.pipe_file(f"{folder}/{name}", f.read())
    return f"memory://{folder}/{stem}"


def _trimmed(read: np.ndarray, data: np.ndarray) -> np.ndarray:
    """MGH keeps at least 3 axes and drops trailing ones of length 1: compare in data's shape."""
    return read.reshape(data.shape)


@pytest.mark.parametrize(("suffix", "options", "kind"), CASES,
                         ids=[f"{k}{s}{'-single' if o.get('gzip_blocks') is False else ''}"
                              for s, o, k in CASES])
@PROPS
@given(st.data())
def test_dataobj_index_equals_index_of_whole_array(suffix, options, kind, data):
    saved = data.draw(volumes(kind))
    path = _saved(saved, suffix, options, kind)
    access = data.draw(st.sampled_from(["path", "fileobj", "url"]))
    if access == "fileobj" and suffix.startswith(".img"):
        access = "path"  # one file object holds one file of a pair
    with open(path, "rb") as f:
        if access == "fileobj" and kind != "mgh":
            target = io.BytesIO(f.read())  # no name: the format is found from the content
        elif access == "fileobj":
            target = f  # MGH has no content rules: its name tells it
        else:
            target = _memory_url(path) if access == "url" else path
        img = vx.load(target)
        _check_indices(img, saved, data)


def _check_indices(img, saved: np.ndarray, data) -> None:
    whole = np.asarray(img.dataobj)
    assert np.array_equal(_trimmed(whole, saved), saved)
    for _ in range(3):
        index = data.draw(indices(whole.shape))
        part = np.asarray(img.dataobj[index])
        assert part.dtype == whole.dtype
        assert np.array_equal(part, whole[index]), index
        if whole.shape == saved.shape:
            assert np.array_equal(part, saved[index]), index
