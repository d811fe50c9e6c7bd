"""A failed save leaves the existing files byte-identical."""

from __future__ import annotations

import os

import numpy as np
import pytest

import voxelio.writing as writing
from voxelio.errors import WriterError
from voxelio.writing import safe_replace
from voxelio_toy.image import ToyImage


class BoomError(RuntimeError):
    pass


def _fail_after(monkeypatch, n_chunks: int):
    real = writing.to_stored
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_chunks:
            raise BoomError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(writing, "to_stored", failing)
    monkeypatch.setattr(writing, "CHUNK_ELEMENTS", 64)


@pytest.mark.parametrize("suffix", [".toy", ".toy.gz", ".toy.bz2"])
def test_failure_mid_write_keeps_old_file(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"img{suffix}"
    ToyImage(np.ones((8, 8, 8), "f4"), np.eye(4)).to_filename(path)
    before = path.read_bytes()
    _fail_after(monkeypatch, 1)  # the second piece fails, after the first was written
    with pytest.raises(BoomError):
        ToyImage(np.zeros((8, 8, 8), "f4"), np.eye(4)).to_filename(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary left behind


def test_unrepresentable_values_fail_without_touching_target(tmp_path):
    path = tmp_path / "img.toy"
    ToyImage(np.ones((4, 4), "i2"), np.eye(4)).to_filename(path)
    before = path.read_bytes()
    bad = ToyImage(np.array([[np.inf, 1.0]]), np.eye(4))
    with pytest.raises(WriterError, match="infinite"):
        bad.to_filename(path, dtype="int16")
    assert path.read_bytes() == before


def test_saving_over_the_mapped_source_file(tmp_path):
    path = tmp_path / "img.toy"
    data = np.arange(1000, dtype="f4").reshape((10, 10, 10))
    ToyImage(data, np.eye(4)).to_filename(path)
    img = ToyImage.from_filename(path, mmap=True)
    img.to_filename(path)  # read from the map while writing the same name
    again = ToyImage.from_filename(path)
    assert np.array_equal(again.get_fdata(), data)
    doubled = ToyImage(np.asarray(again.dataobj) * 2, np.eye(4))
    doubled.to_filename(path)
    assert np.array_equal(ToyImage.from_filename(path).get_fdata(), data * 2)


def test_safe_replace_keeps_all_targets_on_failure(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    with pytest.raises(BoomError), safe_replace(a, b) as (ta, tb):
        with open(ta, "wb") as f:
            f.write(b"new a")
        raise BoomError()
    assert a.read_bytes() == b"old a" and b.read_bytes() == b"old b"
    with safe_replace(a, b) as (ta, tb):
        for t, text in ((ta, b"new a"), (tb, b"new b")):
            with open(t, "wb") as f:
                f.write(text)
    assert a.read_bytes() == b"new a" and b.read_bytes() == b"new b"
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


def test_safe_replace_keeps_file_mode(tmp_path):
    target = tmp_path / "t"
    target.write_bytes(b"x")
    os.chmod(target, 0o640)
    with safe_replace(target) as (temp,), open(temp, "wb") as f:
        f.write(b"y")
    assert os.stat(target).st_mode & 0o777 == 0o640


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
def test_compressed_writers_count_uncompressed_offsets(tmp_path, suffix):
    from voxelio import codecs

    path = tmp_path / f"t{suffix}"
    with codecs.opened(path, "wb", compression=codecs.compression_from_name(path)) as f:
        f.write(b"x" * 352)
        assert f.tell() == 352
    data = np.arange(30, dtype="i2").reshape((2, 3, 5))
    ToyImage(data, np.eye(4)).to_filename(tmp_path / f"img.toy{suffix}")
    assert np.array_equal(ToyImage.from_filename(tmp_path / f"img.toy{suffix}").get_fdata(), data)
