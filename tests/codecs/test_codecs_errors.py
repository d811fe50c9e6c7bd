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
