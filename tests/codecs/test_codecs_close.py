"""Closing a reader (and the image over it) while the indexing pass of a single gzip
stream runs: close returns without waiting for the pass, which stops at its next step
and lets go of its own descriptor; no thread and no file handle outlives it."""

from __future__ import annotations

import gzip
import os
import threading

import numpy as np
import pytest
from codec_helpers import HeldIndexer, smooth_noise

import voxelio as vx
from voxelio import codecs
from voxelio.codecs import seek_index

DATA = smooth_noise(2_000_000, seed=29)
SPACING = 32 * 1024

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc fds")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def single(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    path = tmp_path / "single.gz"
    path.write_bytes(gzip.compress(DATA, compresslevel=6, mtime=0))
    return str(path)


def _close_in_a_thread(close) -> threading.Thread:
    closer = threading.Thread(target=close, daemon=True)
    closer.start()
    closer.join(30)
    return closer


def test_close_does_not_wait_for_a_late_indexing_pass(single, monkeypatch):
    late = HeldIndexer(monkeypatch)
    before = _open_fds()
    r = codecs.open_indexed(single)
    assert r.read_range(300_000, 2000) == DATA[300_000:302_000]
    assert late.started.wait(30)
    indexer = r._source._indexer
    assert indexer is not None and indexer.is_alive()
    closer = _close_in_a_thread(r.close)
    # close returned while the pass is still held (it used to join the pass: a hang here)
    assert not closer.is_alive()
    assert r.closed and indexer.is_alive()
    late.release.set()
    indexer.join(30)
    assert not indexer.is_alive()
    # it stopped at its first step boundary, and closed the descriptor it read through
    assert late.bytes <= SPACING
    assert _open_fds() == before


def test_closing_an_image_does_not_wait_for_the_indexing_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(seek_index, "MIN_SPACING", SPACING)
    monkeypatch.setattr(seek_index, "MAX_SPACING", SPACING)
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    data = np.frombuffer(DATA, dtype="<i2")[: 64 * 64 * 200].reshape(64, 64, 200)
    path = tmp_path / "one_stream.nii"
    vx.save(vx.Nifti1Image(data, np.eye(4)), str(path))
    with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb", 6) as dst:
        dst.write(src.read())  # one gzip stream, as other tools write it
    late = HeldIndexer(monkeypatch)
    before = _open_fds()
    img = vx.load(f"{path}.gz", keep_file_open=True)
    assert np.array_equal(np.asarray(img.dataobj[..., 150]), data[..., 150])
    assert late.started.wait(30)
    indexer = next(t for t in threading.enumerate() if t.name == "voxelio-gzip-index")
    closer = _close_in_a_thread(img.dataobj.close)
    assert not closer.is_alive()
    late.release.set()
    indexer.join(30)
    assert not indexer.is_alive()
    assert _open_fds() == before
    # the image reads again after close (the file is reopened)
    assert np.array_equal(np.asarray(img.dataobj[..., 3]), data[..., 3])
    img.dataobj.close()
