"""Damaged and hostile MGH/MGZ files: what reading the tags costs (issue 10, items 7 and 9)."""

from __future__ import annotations

import io
import struct
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest

import voxelio.limits
from voxelio.errors import HeaderDataError, ImageFileError
from voxelio_mgh.header import MGHHeader
from voxelio_mgh.image import MGHImage
from voxelio_mgh.tags import MGHTag, MGHTags

MiB = 1 << 20
DATA = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def mgh_bytes() -> bytes:
    return MGHImage(DATA, np.eye(4)).to_bytes()


def gzip_of(*parts: bytes | tuple[bytes, int]) -> bytes:
    """gzip of the parts; (byte, n) stands for n copies of byte, never held whole."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    for part in parts:
        if isinstance(part, tuple):
            block = part[0] * MiB
            out.extend(comp.compress(block) for _ in range(part[1] // MiB))
        else:
            out.append(comp.compress(part))
    out.append(comp.flush())
    return b"".join(out)


def peak_memory(fn):
    tracemalloc.start()
    result = error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn()
    except Exception as err:
        error = err
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, result, error


def test_gzip_bomb_after_the_footer_is_not_read_into_memory(tmp_path):
    path = tmp_path / "bomb.mgz"
    path.write_bytes(gzip_of(mgh_bytes(), (b"\0", 300 * MiB)))
    assert path.stat().st_size < 400_000
    peak, img, error = peak_memory(lambda: MGHImage.from_filename(str(path)))
    assert error is None
    np.testing.assert_array_equal(img.get_fdata(), DATA)
    assert len(img.header.tags) == 0 and img.header.tags.tail == b""
    assert any("not kept" in r.message for r in img.header.load_reports)
    # was 755 MB, then ~90 MiB (the window of the stream's end a pass to it keeps);
    # now the header bounds what is kept: the data, the footer and the tags voxelio
    # would keep (OPAQUE_BYTES), read once more as the tags' tail
    assert peak < 2 * voxelio.limits.OPAQUE_BYTES + 8 * MiB


def test_junk_after_the_footer_of_a_plain_file_costs_at_most_the_opaque_limit(tmp_path):
    path = tmp_path / "junk.mgh"
    path.write_bytes(mgh_bytes() + b"\x00" * (64 * MiB))
    with pytest.warns(UserWarning, match="not kept"), open(path, "rb") as stream:
        from_disk = MGHHeader.from_fileobj(stream)
    assert from_disk.tags.tail == b""
    peak, _hdr, error = peak_memory(lambda: MGHHeader.from_fileobj(io.BytesIO(path.read_bytes())))
    assert error is None
    assert peak - path.stat().st_size < 2 * voxelio.limits.OPAQUE_BYTES + 4 * MiB


def test_tag_claiming_a_huge_length_keeps_the_few_bytes_there_are():
    raw = mgh_bytes() + struct.pack(">iq", 3, 2**40) + b"cmd"
    peak, hdr, error = peak_memory(lambda: MGHHeader.from_fileobj(io.BytesIO(raw)))
    assert error is None and len(hdr.tags) == 0
    assert hdr.tags.tail == struct.pack(">iq", 3, 2**40) + b"cmd"
    assert peak < 4 * MiB


def test_tags_holding_more_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(voxelio.limits, "METADATA_BYTES", 1 * MiB)
    raw = mgh_bytes() + MGHTag(3, b"x" * (2 * MiB)).to_bytes()
    with pytest.raises(ImageFileError, match="METADATA_BYTES"):
        MGHImage.from_bytes(raw)


def test_gz_tag_with_a_real_payload_past_the_limit_is_refused_within_the_limit():
    raw = gzip_of(mgh_bytes(), struct.pack(">iq", 3, 2**40), (b"\x01", 100 * MiB))
    peak, _, error = peak_memory(lambda: MGHImage.from_bytes(raw))
    assert isinstance(error, ImageFileError) and "METADATA_BYTES" in str(error)
    assert peak < 2 * voxelio.limits.METADATA_BYTES + 96 * MiB


def test_many_tiny_tags_are_refused():
    tags = MGHTag(99, b"").to_bytes() * (voxelio.limits.METADATA_RECORDS + 1)
    with pytest.raises(ImageFileError, match="METADATA_RECORDS"):
        MGHImage.from_bytes(mgh_bytes() + tags)


def test_tags_round_trip_byte_exact_after_the_rewrite():
    tags = MGHTags([MGHTag.from_text("PEDIR", "LR"), MGHTag(42, b"\x00\x01" * 100)], b"\x00" * 7)
    raw = mgh_bytes() + tags.to_bytes()
    img = MGHImage.from_bytes(raw)
    assert img.header.tags == tags
    assert img.to_bytes() == raw


@pytest.mark.parametrize("dims", [(2**31 - 1,) * 4, (2**31 - 1, 2**31 - 1, 2**31 - 1, 4)])
@pytest.mark.parametrize("compress", [False, True])
def test_dimension_products_beyond_64_bits_give_a_voxelio_error(dims, compress):
    raw = bytearray(mgh_bytes())
    raw[4:20] = struct.pack(">4i", *dims)
    raw = gzip_of(bytes(raw)) if compress else bytes(raw)
    with pytest.raises((ImageFileError, HeaderDataError)):
        MGHImage.from_bytes(raw)


def test_a_loaded_bomb_does_not_keep_the_inflated_junk(tmp_path):
    import gc

    path = tmp_path / "bomb.mgz"
    path.write_bytes(gzip_of(mgh_bytes(), (b"\0", 300 * MiB)))
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img = MGHImage.from_filename(str(path))
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # the reader's window of the stream's end (80 MiB of zeros) was let go
    assert retained < 16 * MiB
    np.testing.assert_array_equal(img.get_fdata(), DATA)


def test_a_singular_vox2ras_has_no_ras2vox():
    # found by the fuzzer: zero direction cosines (Mdc) made get_ras2vox raise
    # numpy's LinAlgError
    hdr = MGHHeader()
    hdr["Mdc"][0] = 0.0
    with pytest.raises(HeaderDataError, match="cannot be inverted"):
        hdr.get_ras2vox()
