"""Bad compressed input and missing codecs raise ImageFileError that says what happened."""

from __future__ import annotations

import io
import sys

import pytest
from codec_helpers import ReadOnlyStream, compress, usable

from voxelio import codecs
from voxelio.errors import ImageFileError

VARIANTS = [("gzip", True), ("gzip", False), ("bz2", True), ("zstd", True)]
CODEC_WORD = {"gzip": "gzip", "bz2": "bz2", "zstd": "zstd"}


def _raw(payload, codec, blocks):
    if not usable(codec):
        pytest.skip(f"{codec} is not available here")
    return compress(payload, codec, gzip_blocks=blocks)


@pytest.mark.parametrize(("codec", "blocks"), VARIANTS)
@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_stream_raises_image_file_error(tmp_path, payload, codec, blocks, keep,
                                                  backend):
    raw = _raw(payload, codec, blocks)
    path = tmp_path / f"cut.{codec}"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ImageFileError) as info, codecs.opened(path) as f:
        f.read()
    assert "cut." in str(info.value)
    assert CODEC_WORD[codec] in str(info.value)


@pytest.mark.parametrize(("codec", "blocks"), VARIANTS)
def test_truncated_stream_raises_through_read_into(payload, codec, blocks):
    raw = _raw(payload, codec, blocks)
    out = bytearray(len(payload))
    with pytest.raises(ImageFileError):
        codecs.read_into(io.BytesIO(raw[:-20]), 0, out)


@pytest.mark.parametrize(("codec", "blocks"), VARIANTS)
def test_corrupt_stream_raises_image_file_error(tmp_path, payload, codec, blocks, backend):
    raw = bytearray(_raw(payload, codec, blocks))
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(b ^ 0x5A for b in raw[middle : middle + 64])
    path = tmp_path / f"bad.{codec}"
    path.write_bytes(bytes(raw))
    with pytest.raises(ImageFileError) as info, codecs.opened(path) as f:
        f.read()
    assert "bad." in str(info.value)


def test_corrupt_crc_is_detected(payload):
    raw = bytearray(compress(payload, "gzip"))
    raw[-8] ^= 0xFF  # last member's CRC
    with pytest.raises(ImageFileError, match="gzip"), codecs.opened(io.BytesIO(bytes(raw))) as f:
        f.read()


def test_header_of_truncated_file_still_reads(payload):
    raw = compress(payload, "gzip", gzip_blocks=False)
    with codecs.opened(io.BytesIO(raw[: len(raw) // 2])) as f:
        assert f.read(348) == payload[:348]


def test_gzip_claimed_but_absent_raises():
    with pytest.raises(ImageFileError, match="no gzip data"), codecs.opened(
        io.BytesIO(b"plain bytes"), "rb", "gzip"
    ) as f:
        f.read()


def test_missing_file_raises_image_file_error(tmp_path):
    with pytest.raises(ImageFileError, match="missing.nii.gz"), codecs.opened(
        tmp_path / "missing.nii.gz"
    ):
        pass


def test_backward_seek_in_a_stream_that_cannot_seek_raises(payload):
    from voxelio.codecs.seek_index import HEAD_KEEP

    stream = ReadOnlyStream(compress(payload, "gzip", gzip_blocks=False))
    with codecs.opened(stream) as f:
        f.seek(len(payload) - 10)
        f.read()
        f.seek(HEAD_KEEP + 1000)
        with pytest.raises(ImageFileError, match="not seekable"):
            f.read(10)


def test_the_start_of_a_stream_that_cannot_seek_is_kept(payload):
    from voxelio.codecs.seek_index import HEAD_KEEP

    stream = ReadOnlyStream(compress(payload, "gzip", gzip_blocks=False))
    with codecs.opened(stream) as f:
        assert f.read(HEAD_KEEP) == payload[:HEAD_KEEP]
        f.seek(len(payload) - 10)
        assert f.read() == payload[-10:]
        f.seek(100)  # inside the decompressed head kept in memory
        assert f.read(1000) == payload[100:1100]


def test_missing_zstandard_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setitem(sys.modules, "compression", None)
    monkeypatch.delenv("VOXELIO_STDLIB_CODECS", raising=False)
    assert "zstd" not in codecs.available_codecs()
    with pytest.raises(ImageFileError, match="zstandard"):
        compress(b"abc", "zstd")
    with pytest.raises(ImageFileError, match="zstandard"), codecs.opened(
        io.BytesIO(b"\x28\xb5\x2f\xfd" + bytes(20))
    ) as f:
        f.read()


def test_stdlib_mode_without_zstd_explains_the_switch(monkeypatch):
    monkeypatch.setitem(sys.modules, "compression", None)
    monkeypatch.setenv("VOXELIO_STDLIB_CODECS", "1")
    with pytest.raises(ImageFileError, match="VOXELIO_STDLIB_CODECS"):
        compress(b"abc", "zstd")


# -- found by the fuzzer ------------------------------------------------------------------
@pytest.mark.parametrize(("codec", "blocks"), VARIANTS)
def test_reads_after_a_corrupt_stream_failed_fail_the_same_way(payload, codec, blocks, backend):
    # bz2's decompressor refuses any call after an error: a second read went on
    # from the failed one and raised RuntimeError ("Invalid sequence of commands")
    raw = bytearray(_raw(payload[:200_000], codec, blocks))
    raw[-3] ^= 0xFF  # the stream's end: its checksum
    with codecs.open_indexed(io.BytesIO(bytes(raw))) as reader:
        for offset in (0, 150_000, 199_000, 0):
            with pytest.raises(ImageFileError, match="corrupt|truncated"):
                reader.read_range(offset, 1000) and reader.read_range(0, 200_000)


def _vx_members(raw: bytes) -> list[int]:
    """Offsets of the members of a blocked gzip file voxelio wrote (its VX size subfields)."""
    offsets, pos = [], 0
    while pos < len(raw):
        offsets.append(pos)
        pos += int.from_bytes(raw[pos + 16 : pos + 20], "little")
    return offsets


def _with_usize(payload: bytes, usize: int) -> bytes:
    raw = bytearray(compress(payload[:40_000], "gzip", gzip_blocks=4096))
    member = _vx_members(bytes(raw))[3]
    raw[member + 20 : member + 24] = usize.to_bytes(4, "little")
    return bytes(raw)


@pytest.mark.parametrize("usize", [2**32 - 1, 65 << 20, 2**31])
def test_a_member_claiming_more_than_it_can_hold_is_not_allocated(payload, usize):
    # the size subfield's uncompressed size was trusted as the output buffer to
    # allocate: 4 GiB for a 3 KB member (MemoryError under a memory cap)
    import tracemalloc

    raw = _with_usize(payload, usize)
    tracemalloc.start()
    try:
        with codecs.open_indexed(io.BytesIO(raw)) as reader:
            # the members from there on are streamed: their own bytes say what they hold
            assert reader.read_range(0, 40_000) == payload[:40_000]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_a_member_claiming_a_wrong_size_it_could_hold_is_corrupt(payload):
    with pytest.raises(ImageFileError, match="corrupt.*5000"), \
            codecs.open_indexed(io.BytesIO(_with_usize(payload, 5000))) as reader:
        reader.read_range(0, 40_000)


@pytest.mark.parametrize("isize", [2**32 - 1, 2**20])
def test_a_bgzf_member_whose_trailer_claims_more_than_64_kib_is_not_allocated(payload, isize):
    import tracemalloc

    from test_codecs_gzip import _bgzf

    raw = bytearray(_bgzf(payload[:40_000], 4096))
    bsize = int.from_bytes(raw[16:18], "little") + 1
    raw[bsize - 4 : bsize] = isize.to_bytes(4, "little")  # the first member's ISIZE
    tracemalloc.start()
    try:
        with pytest.raises(ImageFileError, match="corrupt"), codecs.open_indexed(
                io.BytesIO(bytes(raw))) as reader:
            reader.read_range(0, 40_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
