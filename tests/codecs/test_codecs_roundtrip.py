"""Writing then reading every codec through paths, in-memory files and streams."""

from __future__ import annotations

import io

import pytest
from codec_helpers import PipeRaw, ReadOnlyStream, WriteOnlySink, compress, usable

from voxelio import codecs

CODECS = ["gzip", "bz2", "zstd", None]
SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "zstd": ".zst", None: ""}


def _need(codec):
    if not usable(codec):
        pytest.skip(f"{codec} is not available here")


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_through_a_path(tmp_path, payload, codec, backend):
    _need(codec)
    path = tmp_path / f"img.nii{SUFFIX[codec]}"
    with codecs.opened(path, "wb", codecs.compression_from_name(path)) as f:
        f.write(payload[:100])
        f.write(memoryview(payload)[100:])
    raw = path.read_bytes()
    assert codecs.detect_compression(raw) == codec
    with codecs.opened(path) as f:
        assert f.read() == payload
    with codecs.opened(str(path), "rb", codec) as f:
        assert f.read() == payload


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_through_bytesio_leaves_it_open(payload, codec, backend):
    _need(codec)
    buf = io.BytesIO()
    with codecs.opened(buf, "wb", codec) as f:
        f.write(payload)
    assert not buf.closed
    buf.seek(0)
    with codecs.opened(buf) as f:
        assert f.read() == payload
    assert not buf.closed


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_compressed_data_starts_at_the_file_objects_position(payload, codec):
    _need(codec)
    buf = io.BytesIO(b"JUNK" + compress(payload, codec))
    buf.seek(4)
    with codecs.opened(buf) as f:
        assert f.read(1000) == payload[:1000]
        f.seek(10)  # offsets count decompressed bytes from that position
        assert f.read(5) == payload[10:15]


def test_uncompressed_file_object_is_handed_back_unchanged(payload):
    buf = io.BytesIO(b"JUNK" + payload)
    buf.seek(4)
    with codecs.opened(buf) as f:
        assert f is buf
        assert f.tell() == 4


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_through_streams_that_cannot_seek(payload, codec, backend):
    _need(codec)
    sink = WriteOnlySink()
    with codecs.opened(sink, "wb", codec) as f:
        f.write(payload)
    assert not sink.closed
    stream = ReadOnlyStream(sink.getvalue())
    with codecs.opened(stream) as f:
        assert f.read(10) == payload[:10]
        f.seek(5000)  # forward seek skips
        assert f.read() == payload[5000:]
    assert not stream.closed


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_peekable_stream_is_sniffed_without_consuming(payload, codec):
    _need(codec)
    raw = io.BufferedReader(PipeRaw(compress(payload, codec)))
    with codecs.opened(raw) as f:
        assert f.read() == payload


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_reader_seeks_backward_and_from_the_end(payload, codec):
    _need(codec)
    with codecs.opened(io.BytesIO(compress(payload, codec))) as f:
        assert f.seekable()
        f.seek(len(payload) - 100)
        assert f.read() == payload[-100:]
        f.seek(7)
        assert f.tell() == 7
        assert f.read(3) == payload[7:10]
        assert f.seek(-10, io.SEEK_END) == len(payload) - 10
        assert f.read() == payload[-10:]
        f.seek(len(payload) + 5)
        assert f.read(10) == b""


def test_uncompressed_path_reads_as_a_plain_file(tmp_path, payload):
    path = tmp_path / "plain.nii"
    path.write_bytes(payload)
    with codecs.opened(path) as f:
        assert isinstance(f, io.BufferedReader)
        assert f.read() == payload
    assert f.closed


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_files_opened_by_name_are_closed(tmp_path, payload, codec):
    _need(codec)
    path = tmp_path / "x"
    with codecs.opened(path, "wb", codec) as f:
        f.write(b"abc")
    assert f.closed
    with codecs.opened(path) as r:
        assert r.read() == b"abc"
    assert r.closed


def test_write_auto_takes_compression_from_the_name(tmp_path, payload):
    path = tmp_path / "img.NII.GZ"
    with codecs.opened(path, "wb") as f:
        f.write(payload)
    assert codecs.detect_compression(path.read_bytes()[:4]) == "gzip"
    buf = io.BytesIO()
    with codecs.opened(buf, "wb") as f:
        f.write(b"raw")
    assert buf.getvalue() == b"raw"


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_empty_data_round_trips(codec):
    _need(codec)
    raw = compress(b"", codec)
    assert raw
    with codecs.opened(io.BytesIO(raw)) as f:
        assert f.read() == b""


@pytest.mark.parametrize("blocks", [True, False, 4096])
def test_writer_tell_counts_uncompressed_bytes_and_seeks_forward(blocks):
    buf = io.BytesIO()
    with codecs.opened(buf, "wb", "gzip", gzip_blocks=blocks) as f:
        f.write(b"head")
        assert f.tell() == 4
        f.seek(352)
        f.write(b"data")
        with pytest.raises(io.UnsupportedOperation):
            f.seek(0)
    with codecs.opened(io.BytesIO(buf.getvalue())) as f:
        assert f.read() == b"head" + bytes(348) + b"data"


@pytest.mark.parametrize("level", [0, 1, 2, 3, 6, 9])
def test_every_gzip_level_round_trips(payload, level, backend):
    raw = compress(payload[:200_000], "gzip", compresslevel=level)
    with codecs.opened(io.BytesIO(raw)) as f:
        assert f.read() == payload[:200_000]


def test_higher_levels_make_smaller_files(payload):
    sizes = [len(compress(payload, c, compresslevel=lv)) for c, lv in
             [("gzip", 1), ("gzip", 9)]]
    assert sizes[1] < sizes[0]


def test_bad_arguments_raise_value_error(payload):
    with pytest.raises(ValueError, match="mode"), codecs.opened(io.BytesIO(), "ab"):
        pass
    with pytest.raises(ValueError, match="compression"), codecs.opened(io.BytesIO(), "wb", "lzma"):
        pass
    with pytest.raises(ValueError, match="compresslevel"):
        compress(b"x", "gzip", compresslevel=12)
    with pytest.raises(ValueError, match="compresslevel"):
        compress(b"x", "bz2", compresslevel=0)


def test_codec_aliases_are_accepted(payload):
    raw = compress(b"abc", "GZ")
    with codecs.opened(io.BytesIO(raw), "rb", "gzip") as f:
        assert f.read() == b"abc"
