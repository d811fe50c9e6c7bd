"""ReaderHandOff: a reader goes from the open that made it to the next read of that file."""

from __future__ import annotations

import gc
import gzip
import os
import pickle

import numpy as np
import pytest
from codec_helpers import smooth_noise

from voxelio import codecs
from voxelio.codecs import handoff
from voxelio.filemaps import FileHolder
from voxelio.openfiles import ReaderHandOff, reading
from voxelio.proxy import ArrayProxy

DATA = smooth_noise(200_000, seed=3)


@pytest.fixture
def gz(tmp_path):
    path = tmp_path / "data.gz"
    path.write_bytes(gzip.compress(DATA, mtime=0))
    return str(path)


def _left_in(hand_off, path):
    with codecs.opened(path, "rb", leave_open=hand_off) as reader:
        assert reader.read(10) == DATA[:10]
    return reader


def test_the_reader_is_taken_once_by_a_read_of_the_same_file(gz):
    hand_off = ReaderHandOff()
    reader = _left_in(hand_off, gz)
    assert hand_off.holds and not reader.closed
    with codecs.opened(gz, "rb", reuse=hand_off) as again:
        assert again is reader
        assert again.read_range(5000, 100) == DATA[5000:5100]
    assert reader.closed and not hand_off.holds
    with codecs.opened(gz, "rb", reuse=hand_off) as fresh:
        assert fresh is not reader and fresh.read() == DATA


def test_another_file_or_a_changed_one_gets_a_fresh_reader(gz, tmp_path):
    other = tmp_path / "other.gz"
    other.write_bytes(gzip.compress(DATA[::-1], mtime=0))
    hand_off = ReaderHandOff()
    reader = _left_in(hand_off, gz)
    assert hand_off.take(str(other)) is None
    assert reader.closed and not hand_off.holds

    reader = _left_in(hand_off, gz)
    with open(gz, "wb") as f:
        f.write(gzip.compress(DATA[::-1], mtime=0))
    os.utime(gz, ns=(1, 1))
    with codecs.opened(gz, "rb", reuse=hand_off) as again:
        assert again is not reader and again.read() == DATA[::-1]
    assert reader.closed


def test_an_untaken_reader_closes_with_its_hand_off(gz):
    hand_off = ReaderHandOff()
    reader = _left_in(hand_off, gz)
    hand_off.close()
    assert reader.closed and not hand_off.holds
    reader = _left_in(hand_off, gz)
    del hand_off
    gc.collect()
    assert reader.closed


def test_at_most_max_held_hand_offs_hold_a_reader(gz, monkeypatch):
    monkeypatch.setattr(handoff, "MAX_HELD", 2)
    offs = [ReaderHandOff() for _ in range(3)]
    readers = [_left_in(h, gz) for h in offs]
    assert readers[0].closed and not offs[0].holds
    assert [h.holds for h in offs[1:]] == [True, True]
    assert not any(r.closed for r in readers[1:])
    handoff.close_all()
    assert all(r.closed for r in readers)


def test_a_pickled_hand_off_travels_empty(gz):
    hand_off = ReaderHandOff()
    reader = _left_in(hand_off, gz)
    copy = pickle.loads(pickle.dumps(hand_off))
    assert not copy.holds and hand_off.holds
    hand_off.close()
    assert reader.closed


def test_plain_files_are_never_held(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(DATA)
    hand_off = ReaderHandOff()
    holder = FileHolder(filename=str(path))
    with reading(holder, "file", hand_off) as f:
        assert f.read(4) == DATA[:4]
    assert f.closed and not hand_off.holds


@pytest.mark.parametrize("keep", [None, False])
def test_loader_to_proxy(gz, keep):
    """reading() leaves its reader in the hand-off; the proxy's first read takes it."""
    holder = FileHolder(filename=gz)
    hand_off = ReaderHandOff()
    with reading(holder, "test file", hand_off) as stream:
        assert stream.read(100) == DATA[:100]
    assert hand_off.holds and not stream.closed
    proxy = ArrayProxy.from_holder(
        holder, (len(DATA) // 2 - 50,), "<i2", 100, keep_file_open=keep, hand_off=hand_off
    )
    expected = np.frombuffer(DATA[100 : 100 + proxy.nbytes], "<i2")
    np.testing.assert_array_equal(np.asarray(proxy), expected)
    assert not hand_off.holds
    # kept (None: compressed files stay open) or closed after the read (False)
    assert stream.closed is (keep is False)
    np.testing.assert_array_equal(proxy[10:20], expected[10:20])
    proxy.close()
    assert stream.closed


def test_a_proxy_that_never_reads_closes_the_reader(gz):
    holder = FileHolder(filename=gz)
    hand_off = ReaderHandOff()
    with reading(holder, "test file", hand_off) as stream:
        stream.read(10)
    proxy = ArrayProxy.from_holder(holder, (10,), "<i2", hand_off=hand_off)
    del hand_off
    proxy.close()
    assert stream.closed


def test_reading_without_a_hand_off_closes_its_reader(gz):
    with reading(FileHolder(filename=gz), "test file") as stream:
        stream.read(10)
    assert stream.closed


@pytest.mark.parametrize("name", ["img.nii.gz", "img.mgz", "img.nii.bz2"])
def test_a_load_decompresses_once_for_header_and_data(tmp_path, monkeypatch, name):
    import voxelio as vx
    from voxelio.codecs import opening

    arr = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    path = str(tmp_path / name)
    vx.save(_image(name, arr), path)
    img = vx.load(path)
    made = []
    real = opening._indexed

    def counting(*args, **kwargs):
        made.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(opening, "_indexed", counting)
    np.testing.assert_array_equal(img.get_fdata(), arr)
    assert made == []  # the proxy read with the reader the header was read with


def _image(name, arr):
    import voxelio as vx

    cls = vx.MGHImage if name.endswith(".mgz") else vx.Nifti1Image
    return cls(arr, np.eye(4))
