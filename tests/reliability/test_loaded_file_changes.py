"""Issue 10 item 4: a loaded image never silently reads another file's values."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from reliability_helpers import nifti, pair

import voxelio as vx

SUFFIXES = [".nii", ".nii.gz", ".hdr", ".mgz", ".mgh"]


def _image(value: float, suffix: str) -> vx.SpatialImage:
    if suffix in (".mgz", ".mgh"):
        return vx.MGHImage(np.full((4, 5, 6), value, np.float32), np.eye(4))
    return pair(value) if suffix == ".hdr" else nifti(value)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_save_over_the_loaded_file_never_gives_the_new_values(tmp_path, suffix, mmap):
    path = str(tmp_path / f"img{suffix}")
    vx.save(_image(1.0, suffix), path)
    img = vx.load(path, mmap=mmap)
    vx.save(_image(2.0, suffix), path)
    try:
        values = np.asarray(img.dataobj[1:3, 0, :])
    except vx.ImageFileError as err:
        assert "load the file again" in str(err)
    else:
        # reading the version loaded (a file kept open) is right too
        assert np.all(values == 1.0)


@pytest.mark.parametrize("suffix", [".nii", ".hdr"])
def test_rewriting_the_file_in_place_is_detected(tmp_path, suffix):
    path = str(tmp_path / f"img{suffix}")
    vx.save(_image(1.0, suffix), path)
    img = vx.load(path, mmap=False)
    data_file = path.replace(".hdr", ".img")
    with open(data_file, "r+b") as f:  # same inode, new bytes
        f.seek(-4, os.SEEK_END)
        f.write(np.float32(9.0).tobytes())
    with pytest.raises(vx.ImageFileError, match="was modified"):
        img.get_fdata()


def test_removed_file_is_reported(tmp_path):
    path = str(tmp_path / "img.nii")
    vx.save(nifti(1.0), path)
    img = vx.load(path)
    os.unlink(path)
    with pytest.raises(vx.ImageFileError, match="was removed"):
        img.dataobj[0]


def test_a_pickled_proxy_checks_the_file_in_the_process_that_reads(tmp_path):
    path = str(tmp_path / "img.nii")
    vx.save(nifti(1.0), path)
    proxy = pickle.loads(pickle.dumps(vx.load(path).dataobj))
    vx.save(nifti(3.0), path)
    with pytest.raises(vx.ImageFileError, match="replaced"):
        np.asarray(proxy)


def test_unchanged_file_reads_normally_many_times(tmp_path):
    path = str(tmp_path / "img.nii.gz")
    vx.save(nifti(4.0), path)
    img = vx.load(path)
    for _ in range(3):
        assert np.all(img.get_fdata(caching="unchanged") == 4.0)


def test_writable_map_of_its_own_file_keeps_working(tmp_path):
    path = str(tmp_path / "img.nii")
    vx.save(nifti(1.0), path)
    # images refuse mmap='r+' (as NiBabel's do); a proxy may map its file writable
    loaded = vx.load(path).dataobj
    proxy = vx.ArrayProxy(path, (loaded.shape, loaded.dtype, loaded.offset), mmap="r+")
    view = proxy.get_unscaled()
    view[0, 0, 0] = 7.0
    view.flush()
    assert float(proxy[0, 0, 0]) == 7.0


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_save_during_the_load_makes_it_start_again_on_the_new_file(
    tmp_path, suffix, monkeypatch
):
    """A save that replaces the file between format detection and the end of the load
    (here: while the header is parsed) is noticed, and the load starts again: the
    image is the new file's, header and data alike (voxelio._settled)."""
    path = str(tmp_path / f"img{suffix}")
    vx.save(_image(1.0, suffix), path)
    header_class = type(vx.load(path).header)
    real = header_class.from_fileobj.__func__
    calls = []

    def saving_meanwhile(cls, *args, **kwargs):
        calls.append(cls)
        hdr = real(cls, *args, **kwargs)
        if len(calls) == 1:
            vx.save(_image(2.0, suffix), path)
        return hdr

    monkeypatch.setattr(header_class, "from_fileobj", classmethod(saving_meanwhile))
    img = vx.load(path)
    assert len(calls) >= 2  # read again after the save
    assert np.all(np.asarray(img.dataobj) == 2.0)
