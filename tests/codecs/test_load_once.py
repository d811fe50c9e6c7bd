"""A load of a small compressed file opens it once and inflates it once (issue 14 item 3)."""

from __future__ import annotations

import builtins
import gzip
import io
import os

import numpy as np
import pytest

import voxelio
from voxelio import _fileidentity, proxy
from voxelio.codecs import sources as sources_module


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
    real_open_source = sources_module.open_source

    def recording_open_source(*args, **kwargs):
        sources.append(real_open_source(*args, **kwargs))
        return sources[-1]

    monkeypatch.setattr(sources_module, "open_source", recording_open_source)
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


class _CountingDecompressor:
    """A decompressor that records its decompress calls (and which library inflates)."""

    def __init__(self, d, calls):
        self._d, self._calls = d, calls

    def decompress(self, *args):
        self._calls.append(type(self._d).__module__)
        return self._d.decompress(*args)

    def copy(self):
        return _CountingDecompressor(self._d.copy(), self._calls)

    def __getattr__(self, name):
        return getattr(self._d, name)


def _counting_inflaters(monkeypatch):
    """Record every decompress call of the gzip inflaters voxelio makes."""
    from voxelio.codecs import backends

    calls = []
    real_fast, real_module = backends.fast_gzip_decompressobj, backends.checkpoint_gzip_module

    def fast():
        d = real_fast()
        return None if d is None else _CountingDecompressor(d, calls)

    class Module:
        def __init__(self, module):
            self._module = module

        def decompressobj(self, *args):
            return _CountingDecompressor(self._module.decompressobj(*args), calls)

        def __getattr__(self, name):
            return getattr(self._module, name)

    monkeypatch.setattr(backends, "fast_gzip_decompressobj", fast)
    monkeypatch.setattr(backends, "checkpoint_gzip_module", lambda: Module(real_module()))
    return calls


@pytest.mark.parametrize("opened_as", ["name", "file object"])
def test_a_small_stream_is_inflated_whole_in_one_call(tmp_path, backend, monkeypatch, opened_as):
    from codec_helpers import smooth_noise

    from voxelio import codecs
    from voxelio.codecs import backends

    payload = smooth_noise(40_000, seed=3)
    path = tmp_path / "s.nii.gz"
    path.write_bytes(gzip.compress(payload, mtime=0))  # one stream, not voxelio's blocks
    calls = _counting_inflaters(monkeypatch)
    with open(path, "rb") as f, codecs.open_indexed(path if opened_as == "name" else f) as r:
        # detection, header and data, as a load reads them
        assert r.read_range(0, 540) == payload[:540]
        assert r.read_range(0, 348) == payload[:348]
        assert r.read_range(352, len(payload) - 352) == payload[352:]
        assert r._source.inflated == len(payload)
    assert len(calls) == 1
    if backend == "fast" and backends.has_fast_gzip():
        # no seek point is needed for a stream kept whole: the fastest inflater does it
        assert "isal" in calls[0]
    else:
        assert "isal" not in calls[0]


@pytest.mark.parametrize("first_size", [400_000, 30_000])
def test_a_stream_whose_trailer_understates_its_size_still_reads_right(
    tmp_path, backend, first_size
):
    """The trailer's size is only a hint (it counts the last member): two members,
    the last one tiny, read the same as a plain full read."""
    from codec_helpers import smooth_noise

    from voxelio import codecs

    first, last = smooth_noise(first_size, seed=4), b"tail" * 10
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(first, mtime=0) + gzip.compress(last, mtime=0))
    with codecs.open_indexed(path) as r:
        assert r.read_range(0, 100) == first[:100]
        end = first_size - 1000
        assert r.read_range(end, 2000) == (first + last)[end : end + 2000]
        assert r.read_range(1000, 5000) == first[1000:6000]
        assert r.read() == first + last


def test_a_small_file_is_read_once_in_two_system_calls(small_nii_gz, monkeypatch):
    path, arr, _ = small_nii_gz
    voxelio.load(path).get_fdata()  # first-use set-up (imports) happens here
    preads = []
    real_pread = os.pread

    def counting_pread(fd, n, offset):
        data = real_pread(fd, n, offset)
        preads.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting_pread)
    real_fileio_read = io.FileIO.read
    raw_reads = []

    class CountingFileIO(io.FileIO):
        def read(self, *args):
            data = real_fileio_read(self, *args)
            if self.name == path:
                raw_reads.append(len(data))
            return data

        def readinto(self, buffer):
            got = super().readinto(buffer)
            if self.name == path:
                raw_reads.append(got)
            return got

    monkeypatch.setattr(io, "FileIO", CountingFileIO)
    img = voxelio.load(path)
    np.testing.assert_array_equal(img.get_fdata(), arr)
    # the first bytes through the file's buffer (they say it is compressed), the
    # rest in one go: format detection, member scan, header and data share them
    assert len(raw_reads) == 1
    assert len(preads) <= 1
    assert sum(raw_reads) + sum(preads) == os.path.getsize(path)


def test_a_small_compressed_load_never_imports_the_seek_index(small_nii_gz):
    """The seek index (and its threads, locks, kept-bytes buffers) serves streams read
    at random; a small file inflated whole at open has no use for it."""
    import subprocess
    import sys

    path, _, _ = small_nii_gz
    code = (
        "import sys, voxelio\n"
        f"voxelio.load({path!r}).get_fdata()\n"
        "print(sorted(m for m in sys.modules if m.startswith('voxelio.codecs.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = out.strip()
    assert "voxelio.codecs.sources" in loaded  # the small file was read through the codecs
    for module in ("seek_index", "kept", "decompressors"):
        assert f"voxelio.codecs.{module}'" not in loaded


class _CountingEnviron(dict):
    """os.environ's contents, recording which variables are read."""

    def __init__(self, real, reads):
        super().__init__(real)
        self._reads = reads

    def __getitem__(self, key):
        self._reads.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._reads.append(key)
        return super().get(key, default)


def test_a_load_reads_each_setting_once_and_sees_changes_between_loads(
    small_nii_gz, monkeypatch
):
    from voxelio.codecs import backends

    path, arr, _ = small_nii_gz
    voxelio.load(path).get_fdata()  # first-use set-up
    reads = []
    monkeypatch.setattr(os, "environ", _CountingEnviron(os.environ, reads))
    np.testing.assert_array_equal(voxelio.load(path).get_fdata(), arr)
    settings = [k for k in reads if k.startswith("VOXELIO_")]
    assert len(settings) == len(set(settings)) <= 3  # was 11 reads of 3 settings
    if backends.has_fast_gzip():
        # read at each load, not cached: the next load follows a change
        calls = _counting_inflaters(monkeypatch)
        np.testing.assert_array_equal(voxelio.load(path).get_fdata(), arr)
        os.environ["VOXELIO_STDLIB_CODECS"] = "1"
        np.testing.assert_array_equal(voxelio.load(path).get_fdata(), arr)
        assert "isal" in calls[0] and "isal" not in calls[1]
