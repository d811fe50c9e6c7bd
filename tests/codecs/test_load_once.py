"""A load of a small compressed file opens it once and inflates it once (issue 14 item 3)."""

from __future__ import annotations

import builtins
import gzip
import os

import numpy as np
import pytest

import voxelio
from voxelio import _fileidentity, proxy
from voxelio.codecs import seek_index


@pytest.fixture
def small_nii_gz(tmp_path):
    arr = np.arange(32 * 32 * 16, dtype=np.int16).reshape(32, 32, 16)
    plain = tmp_path / "small.nii"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), plain)
    path = tmp_path / "small.nii.gz"
    raw = plain.read_bytes()
    path.write_bytes(gzip.compress(raw, mtime=0))  # one stream, as other tools write it
    return str(path), arr, len(raw)


def test_load_and_get_fdata_open_and_inflate_once(small_nii_gz, monkeypatch):
    path, arr, usize = small_nii_gz
    opened, sources = [], []
    real_open = _fileidentity.open_regular

    def counting_open(name, *args, **kwargs):
        opened.append(name)
        return real_open(name, *args, **kwargs)

    real_identified = _fileidentity.open_identified

    def counting_identified(name, *args, **kwargs):
        opened.append(name)
        return real_identified(name, *args, **kwargs)

    monkeypatch.setattr(_fileidentity, "open_regular", counting_open)
    monkeypatch.setattr(_fileidentity, "open_identified", counting_identified)
    monkeypatch.setattr(proxy, "open_regular", counting_open)
    # any other way of opening it for reading (a plugin's own check, say) counts too
    real_builtin_open = builtins.open

    def counting_builtin_open(name, *args, **kwargs):
        if isinstance(name, (str, os.PathLike)) and os.fspath(name) == path:
            opened.append(os.fspath(name))
        return real_builtin_open(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_builtin_open)
    real_init = seek_index.StreamSource.__init__

    def recording_init(self, *args, **kwargs):
        sources.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(seek_index.StreamSource, "__init__", recording_init)
    img = voxelio.load(path)
    data = img.get_fdata()
    np.testing.assert_array_equal(data, arr)
    assert opened == [path]
    assert len(sources) == 1
    # every decompressed byte was inflated once: detection, header and data share them
    assert sources[0].inflated <= usize


def test_head_kept_serves_reads_of_the_start_again(tmp_path):
    from voxelio import codecs

    payload = bytes(range(256)) * 2000  # 512 kB
    path = tmp_path / "s.gz"
    path.write_bytes(gzip.compress(payload, mtime=0))
    with codecs.open_indexed(path) as r:
        assert r.read_range(0, 70_000) == payload[:70_000]
        source = r._source
        before = source.inflated
        assert r.read_range(10, 1000) == payload[10:1010]
        assert r.read_range(60_000, 20_000) == payload[60_000:80_000]
        assert source.inflated - before == 10_000  # only the bytes beyond what was kept
        assert r.read_range(300_000, 10) == payload[300_000:300_010]
        assert r.read_range(0, 300_000) == payload[:300_000]
