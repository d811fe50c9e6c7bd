"""gzip output: reproducible, blocked, readable by every gzip reader."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import subprocess
import zlib

import pytest
from codec_helpers import compress

from voxelio import codecs
from voxelio.codecs import gzip_layout, writers
from voxelio.errors import ImageFileError


def _members(raw: bytes) -> list[tuple[int, int, int]]:
    """(offset, member size, uncompressed size) of each member, from the size subfield."""
    found, pos = [], 0
    while pos < len(raw):
        total, usize = gzip_layout.parse_member_header(raw[pos : pos + 64])
        found.append((pos, total, usize))
        pos += total
    return found


@pytest.mark.parametrize("blocks", [True, False])
def test_gzip_output_is_reproducible(payload, blocks, backend):
    first = compress(payload, "gzip", gzip_blocks=blocks)
    second = compress(payload, "gzip", gzip_blocks=blocks)
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # mtime 0
    assert not first[3] & 0x08  # no file name
    assert first[9] == 255


def test_blocked_output_does_not_depend_on_thread_count(payload, monkeypatch):
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "1")
    one = compress(payload, "gzip")
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "3")
    assert compress(payload, "gzip") == one


def test_gzip_written_by_name_has_no_name_in_header(tmp_path, payload):
    path = tmp_path / "brain.nii.gz"
    with codecs.opened(path, "wb", "gzip", gzip_blocks=False) as f:
        f.write(payload)
    raw = path.read_bytes()
    assert b"brain" not in raw[:64]
    assert raw[3] == 0


def test_blocked_members_declare_their_sizes(payload, backend):
    # each backend deflates and checksums in one pass; zlib checks the result
    raw = compress(payload, "gzip")
    members = _members(raw)
    assert len(members) == -(-len(payload) // codecs.GZIP_BLOCK_SIZE)
    assert sum(m[2] for m in members) == len(payload)
    assert all(m[2] <= codecs.GZIP_BLOCK_SIZE for m in members)
    for pos, total, usize in members:
        crc, isize = struct.unpack("<II", raw[pos + total - 8 : pos + total])
        assert isize == usize
        inflated = zlib.decompress(raw[pos : pos + total], 31)  # checks CRC and size too
        assert len(inflated) == usize and crc == zlib.crc32(inflated)


@pytest.mark.parametrize("block", [1000, 4096, 512 * 1024])
def test_blocked_gzip_reads_as_ordinary_gzip(payload, block, backend):
    raw = compress(payload, "gzip", gzip_blocks=block)
    assert gzip.decompress(raw) == payload
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
        f.seek(len(payload) // 2)
        assert f.read(100) == payload[len(payload) // 2 :][:100]


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip(1) not installed")
@pytest.mark.parametrize("blocks", [True, False, 3000])
def test_gzip_tool_accepts_our_files(tmp_path, payload, blocks):
    path = tmp_path / "x.nii.gz"
    path.write_bytes(compress(payload, "gzip", gzip_blocks=blocks))
    subprocess.run(["gzip", "-t", str(path)], check=True)
    out = subprocess.run(["gzip", "-dc", str(path)], check=True, capture_output=True).stdout
    assert out == payload


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip(1) not installed")
def test_gzip_tool_accepts_empty_blocked_file(tmp_path):
    path = tmp_path / "empty.gz"
    path.write_bytes(compress(b"", "gzip"))
    subprocess.run(["gzip", "-t", str(path)], check=True)


def test_blocked_file_is_indexed_without_streaming(payload):
    with codecs.open_indexed(io.BytesIO(compress(payload, "gzip"))) as r:
        assert r.blocked
        assert r.codec == "gzip"
        assert r.size is None  # the members are indexed as reads reach them
        assert r.read_range(100, 10) == payload[100:110]
        r.seek(0, io.SEEK_END)
        assert r.size == r.tell() == len(payload)


def test_single_stream_file_is_read_as_a_stream(payload):
    with codecs.open_indexed(io.BytesIO(gzip.compress(payload))) as r:
        assert not r.blocked
        assert r.size is None
        assert r.read_range(100, 10) == payload[100:110]
        r.seek(0, io.SEEK_END)
        assert r.size == len(payload)


def test_concatenated_foreign_members_and_trailing_zeros(payload):
    half = len(payload) // 2
    raw = gzip.compress(payload[:half]) + gzip.compress(payload[half:]) + bytes(100)
    with codecs.opened(io.BytesIO(raw)) as f:
        assert f.read() == payload
        f.seek(half - 5)
        assert f.read(10) == payload[half - 5 : half + 5]


def _bgzf(data: bytes, block: int) -> bytes:
    """A BGZF file as bgzip writes it: 'BC' subfield with the member size minus one."""
    out = []
    for start in range(0, len(data), block):
        chunk = data[start : start + block]
        body = zlib.compress(chunk, 6, wbits=-15)
        head = struct.pack("<BBBBIBBH", 31, 139, 8, 4, 0, 0, 255, 6)
        bsize = len(head) + 6 + len(body) + 8 - 1
        out += [head, b"BC", struct.pack("<HH", 2, bsize), body,
                struct.pack("<II", zlib.crc32(chunk), len(chunk))]
    out.append(bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000"))
    return b"".join(out)


def test_bgzf_files_are_indexed_too(payload):
    raw = _bgzf(payload[:300_000], 65280)
    with codecs.open_indexed(io.BytesIO(raw)) as r:
        assert r.blocked
        assert r.read_range(200_000, 1000) == payload[200_000:201_000]
        assert r.read_range(0, 400_000) == payload[:300_000]
        assert r.size == 300_000


def test_blocked_file_with_a_plain_member_appended(payload):
    head = compress(payload[:100_000], "gzip", gzip_blocks=4096)
    raw = head + gzip.compress(payload[100_000:200_000])
    with codecs.open_indexed(io.BytesIO(raw)) as r:
        assert r.blocked
        assert r.read_range(95_000, 10_000) == payload[95_000:105_000]
        assert r.read_range(0, 300_000) == payload[:200_000]
        assert r.size == 200_000


@pytest.mark.parametrize("blocks", [True, False])
def test_fast_and_stdlib_backends_read_each_others_files(payload, blocks, monkeypatch):
    pytest.importorskip("isal")
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    fast = compress(payload, "gzip", gzip_blocks=blocks)
    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    slow = compress(payload, "gzip", gzip_blocks=blocks)
    for raw in (fast, slow):
        with codecs.opened(io.BytesIO(raw)) as f:
            assert f.read() == payload
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS")
    for raw in (fast, slow):
        with codecs.opened(io.BytesIO(raw)) as f:
            assert f.read() == payload


def test_blocked_size_cost_is_well_under_one_percent(payload, backend):
    data = payload * 3
    blocked = len(compress(data, "gzip"))
    single = len(compress(data, "gzip", gzip_blocks=False))
    assert blocked / single - 1 < 0.01


def test_default_level_is_about_the_size_of_zlib_level_1(payload):
    ours = len(compress(payload, "gzip"))
    reference = len(gzip.compress(payload, compresslevel=1, mtime=0))
    assert ours < reference * 1.03


def test_blocked_writer_copies_what_it_still_deflates(payload, monkeypatch):
    # write() returns before its blocks are deflated: reusing the buffer is safe
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "3")
    raw = io.BytesIO()
    w = writers.BlockedGzipWriter(raw, None, 4096)
    buf = bytearray(20_000)
    for start in range(0, len(payload), len(buf)):
        piece = payload[start : start + len(buf)]
        buf[: len(piece)] = piece
        w.write(memoryview(buf)[: len(piece)])
        buf[:] = bytes(len(buf))  # scribble over it at once
    w.finish()
    assert gzip.decompress(raw.getvalue()) == payload
    assert raw.getvalue() == compress(payload, "gzip", gzip_blocks=4096)


def test_blocked_writer_uses_stable_buffers_in_place(payload, monkeypatch):
    # write_stable: the caller promises the buffer stays unchanged until
    # finish(), so the blocks the workers deflate are views of it, not copies
    monkeypatch.setenv("VOXELIO_NUM_THREADS", "2")
    raw = io.BytesIO()
    w = writers.BlockedGzipWriter(raw, None, 4096)
    seen: list[object] = []
    deflate = writers.BlockedGzipWriter._deflate

    def spy(block, d):
        seen.append(type(block))
        return deflate(block, d)

    monkeypatch.setattr(writers.BlockedGzipWriter, "_deflate", staticmethod(spy))
    w.write(b"head")  # a file's header, say: it becomes a short member of its own
    w.write_stable(memoryview(payload))
    w.finish()
    # the head and the last partial block are assembled (bytes), every other
    # block is a view: the stable piece starts a member, blocks line up with it
    assert seen.count(bytes) == 2 and seen.count(memoryview) == len(payload) // 4096
    assert gzip.decompress(raw.getvalue()) == b"head" + payload
    sizes = [usize for _pos, _total, usize in _members(raw.getvalue())]
    assert sizes[0] == 4 and set(sizes[1:-1]) == {4096}


def test_small_stable_pieces_share_members(payload):
    # pieces smaller than a block are gathered as before: no tiny members
    raw = io.BytesIO()
    w = writers.BlockedGzipWriter(raw, None, 4096)
    w.write(b"head")
    for start in range(0, len(payload), 1000):
        w.write_stable(memoryview(payload)[start : start + 1000])
    w.finish()
    assert raw.getvalue() == compress(b"head" + payload, "gzip", gzip_blocks=4096)


@pytest.mark.parametrize("kind", ["int16", "float32"])
def test_expected_integer_values_change_the_deflater_not_the_data(payload, kind, backend):
    import numpy as np

    raw = io.BytesIO()
    w = writers.BlockedGzipWriter(raw, None)
    w.expect_values(np.dtype(kind))
    w.write(payload)
    w.finish()
    assert gzip.decompress(raw.getvalue()) == payload
    assert len(raw.getvalue()) < len(gzip.compress(payload, compresslevel=1, mtime=0)) * 1.03
    # a single stream keeps its setting: expect_values is accepted and harmless
    one = io.BytesIO()
    s = writers.GzipStreamWriter(one, None)
    s.expect_values(np.dtype(kind))
    s.write_stable(payload)
    s.finish()
    assert gzip.decompress(one.getvalue()) == payload


def test_isal_level_for_integers_is_level_3(monkeypatch):
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    from voxelio.codecs import backends

    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    data = bytes(range(256)) * 512
    ints = backends.deflater(None, integers=True)
    other = backends.deflater(None)
    assert ints.compress(data) == isal_zlib.compress(data, 3, wbits=-15)
    assert other.compress(data) == isal_zlib.compress(data, 2, wbits=-15)
    assert ints.level == other.level == 1  # the header states the level asked for
    assert backends.deflater(6, integers=True).compress(data) == zlib.compress(data, 6, wbits=-15)


def _one_member(data: bytes) -> bytes:
    raw = compress(data, "gzip", gzip_blocks=len(data) or 1)
    assert len(_members(raw)) == 1
    return raw


def test_a_member_is_inflated_straight_into_the_callers_buffer(payload, backend):
    from voxelio.codecs import backends

    member = _one_member(payload[:70_000])
    out = bytearray(70_000)
    backends.inflate_member_into(member, memoryview(out))
    assert out == payload[:70_000]
    for wrong in (69_999, 70_001):  # the member must fill the buffer exactly
        with pytest.raises(ValueError):
            backends.inflate_member_into(member, bytearray(wrong))
    bad = bytearray(member)
    bad[-8] ^= 0xFF  # CRC
    with pytest.raises((ValueError, *backends.gzip_inflate_errors())):
        backends.inflate_member_into(bytes(bad), bytearray(70_000))
    with pytest.raises((ValueError, *backends.gzip_inflate_errors())):
        backends.inflate_member_into(member[:-30], bytearray(70_000))


def test_fast_backend_writes_into_the_buffer_without_a_bytes_copy(payload, monkeypatch):
    from voxelio.codecs import backends

    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    if backends._gzip_reader_class() is None:
        pytest.skip("ISA-L's gzip reader is not installed")  # the default install has it
    calls: list[int] = []
    real = backends._gzip_reader_class()

    class Spy:
        def __init__(self, data):
            self._r = real(data)

        def readinto(self, view):
            calls.append(len(view))
            return self._r.readinto(view)

        def read(self, n):
            return self._r.read(n)

    monkeypatch.setattr(backends, "_gzip_reader_class", lambda: Spy)
    monkeypatch.setattr(backends, "inflate_member", None)  # the copying path is not taken
    raw = compress(payload, "gzip", gzip_blocks=4096)
    with codecs.opened(io.BytesIO(raw)) as f:
        assert f.read() == payload
    assert len(calls) == len(_members(raw))


@pytest.mark.parametrize("lie", [-1, 1])
def test_a_member_holding_other_than_its_declared_size_is_corrupt(payload, lie, backend):
    from voxelio.errors import ImageFileError

    raw = bytearray(compress(payload, "gzip", gzip_blocks=65536))
    # the first member's size subfield declares one byte more or less than it holds
    total, usize = struct.unpack_from("<II", raw, 16)
    struct.pack_into("<II", raw, 16, total, usize + lie)
    stream = io.BytesIO(bytes(raw))
    with pytest.raises(ImageFileError, match="corrupt"), codecs.opened(stream) as f:
        f.read()


class _CountingFile(io.BytesIO):
    """A BytesIO that counts the reads made of it and the bytes they return."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw)
        self.reads = self.bytes_read = 0

    def read(self, n=-1):
        data = super().read(n)
        self.reads += 1
        self.bytes_read += len(data)
        return data


def test_blocked_members_are_indexed_as_reads_reach_them(payload):
    raw = compress(payload * 4, "gzip", gzip_blocks=256 * 1024)  # ~25 members
    f = _CountingFile(raw)
    with codecs.open_indexed(f) as r:
        assert r.read_range(10, 100) == payload[10:110]
        # the first member's header and the start of its data: not the member table
        assert f.reads <= 4 and f.bytes_read < 48 * 1024, (f.reads, f.bytes_read)
        f.reads = f.bytes_read = 0
        assert r.read_range(0, len(raw) * 8) == payload * 4
        # the rest in one fetch-ahead (index and data together), within 1/8 of the file
        assert f.reads <= 4, f.reads
        assert f.bytes_read <= len(raw) * 1.125, (f.bytes_read, len(raw))
        assert r.size == len(payload) * 4


def test_a_small_read_at_the_start_of_a_large_member_inflates_only_its_start(payload):
    raw = compress(payload, "gzip", gzip_blocks=len(payload))  # one large member
    f = _CountingFile(raw)
    with codecs.open_indexed(f) as r:
        assert r.read_range(0, 600) == payload[:600]
        assert f.bytes_read < 48 * 1024 < len(raw) // 4
        # then all of it, through the member inflated whole
        assert r.read_range(500, 10**7) == payload[500:]


def test_a_member_shorter_than_its_header_says_is_corrupt_on_a_partial_read(payload):
    from voxelio.codecs import gzip_layout

    raw = bytearray(compress(payload, "gzip", gzip_blocks=len(payload)))
    _, usize = gzip_layout.parse_member_header(bytes(raw[:64]))
    # claims far more bytes than it holds: a partial read stops at its real end
    # (8 times: more than 64 MiB would not be indexed at all, see gzip_layout.plausible_size)
    raw[20:24] = (usize * 8).to_bytes(4, "little")
    with codecs.open_indexed(io.BytesIO(bytes(raw))) as r, pytest.raises(ImageFileError):
        r.read_range(len(payload) - 10, 20)
