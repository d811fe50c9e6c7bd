"""A full read of an uncompressed file by name, counted against np.fromfile's work.

np.fromfile opens the file once and reads the data once; the issue-7 row
(plain .nii read <= 1.2x np.fromfile) asks voxelio's proxy to do no more.
Speed itself is measured in benchmarks/.
"""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

import voxelio
from voxelio.errors import ImageFileError


@pytest.fixture
def plain_nii(tmp_path):
    arr = np.arange(40 * 30 * 20, dtype=np.int16).reshape(40, 30, 20)
    path = tmp_path / "plain.nii"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), path)
    np.asarray(voxelio.load(path, mmap=False).dataobj)  # first-use imports happen here
    return str(path), arr


def _count_opens(monkeypatch, path):
    opened = []
    real_open = os.open

    def counting_open(name, *args, **kwargs):
        if not isinstance(name, int) and os.fspath(name) == path:
            opened.append(name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    return opened


@pytest.mark.parametrize("mmap", [False, True])
def test_a_full_read_opens_a_plain_file_once(plain_nii, monkeypatch, mmap):
    # the open that finds no compression is the one read through (or mapped);
    # it was opened a second time to look at its first bytes
    path, arr = plain_nii
    img = voxelio.load(path, mmap=mmap)
    opened = _count_opens(monkeypatch, path)
    np.testing.assert_array_equal(np.asarray(img.dataobj), arr)
    assert len(opened) == 1
    np.testing.assert_array_equal(np.asarray(img.dataobj), arr)  # later reads: one each
    assert len(opened) == 2


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux's /proc/self/io")
def test_a_full_read_reads_the_file_once(plain_nii):
    # bytes read by system calls while reading: the file's size, no byte twice
    path, arr = plain_nii
    img = voxelio.load(path, mmap=False)

    def read_so_far():
        with open("/proc/self/io") as fh:
            return int(next(line for line in fh if line.startswith("rchar")).split()[1])

    before = read_so_far()
    out = np.asarray(img.dataobj)
    after = read_so_far()
    np.testing.assert_array_equal(out, arr)
    # (the slack is the text of /proc/self/io itself; a second look at the
    # file's first bytes would read 8 KiB more)
    assert after - before <= os.path.getsize(path) + 1024


def test_a_plain_name_holding_gzip_is_still_read_through_its_codec(tmp_path):
    arr = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4)
    packed = tmp_path / "packed.nii.gz"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), packed)
    misnamed = tmp_path / "misnamed.nii"
    misnamed.write_bytes(gzip.decompress(packed.read_bytes()))
    raw = misnamed.read_bytes()
    misnamed.write_bytes(gzip.compress(raw))  # one plain gzip stream under a plain name
    for mmap in (False, True):
        img = voxelio.load(misnamed, mmap=mmap)
        assert img.dataobj.compression == "gzip"
        np.testing.assert_array_equal(img.get_fdata(), arr)


def test_a_file_cut_short_after_loading_is_refused_in_voxelio_words(plain_nii):
    path, _ = plain_nii
    img = voxelio.load(path, mmap=False)
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)
    with pytest.raises(ImageFileError):
        np.asarray(img.dataobj)
