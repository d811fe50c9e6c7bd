"""``from_bytes`` of a multi-file image: the ZIP archive is read safely (issue 10, items 7, 10).

Every archive problem is an ImageFileError; an archive that could load
another image than the one meant is refused; members the format does not
need are never read.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from voxelio.errors import ImageFileError
from voxelio_analyze.image import AnalyzeImage

DATA = np.arange(24, dtype=np.int16).reshape(2, 3, 4)


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    kept = np.diag([-1.0, 1, 1, 1])  # x flipped, the one orientation Analyze stores
    with zipfile.ZipFile(io.BytesIO(AnalyzeImage(DATA, kept).to_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive_of(entries, method=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def patch_headers(raw: bytes, local: tuple[int, bytes], central: tuple[int, bytes]) -> bytes:
    """Overwrite bytes at an offset of every local and central directory entry."""
    out = bytearray(raw)
    for signature, (offset, value) in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset : at + offset + len(value)] = value
            at = out.find(signature, at + 4)
    return bytes(out)


def test_round_trip_still_works(members):
    img = AnalyzeImage.from_bytes(archive_of(members.items()))
    np.testing.assert_array_equal(np.asarray(img.dataobj), DATA)


def test_deflated_archive_made_elsewhere_is_read(members):
    img = AnalyzeImage.from_bytes(archive_of(members.items(), zipfile.ZIP_DEFLATED))
    np.testing.assert_array_equal(np.asarray(img.dataobj), DATA)


def test_duplicate_member_names_are_refused(members):
    with pytest.warns(UserWarning, match="Duplicate name"):
        raw = archive_of([*members.items(), ("image.img", b"\x01" * 48)])
    with pytest.raises(ImageFileError, match="several members named"):
        AnalyzeImage.from_bytes(raw)


def test_two_members_for_one_file_type_are_refused(members):
    raw = archive_of([*members.items(), ("other.IMG", b"\x01" * 48)])
    with pytest.raises(ImageFileError, match="ambiguous"):
        AnalyzeImage.from_bytes(raw)


def test_members_of_no_file_type_are_ignored(members):
    raw = archive_of([*members.items(), ("README.txt", b"hello")])
    np.testing.assert_array_equal(np.asarray(AnalyzeImage.from_bytes(raw).dataobj), DATA)


def test_encrypted_member_is_an_image_file_error(members):
    raw = patch_headers(archive_of(members.items()), (6, b"\x01"), (8, b"\x01"))
    with pytest.raises(ImageFileError, match="encrypted"):
        AnalyzeImage.from_bytes(raw)


def test_unsupported_compression_method_is_an_image_file_error(members):
    method = struct.pack("<H", 99)
    raw = patch_headers(archive_of(members.items()), (8, method), (10, method))
    with pytest.raises(ImageFileError, match="compression method 99"):
        AnalyzeImage.from_bytes(raw)


def test_corrupt_deflate_data_is_an_image_file_error(members):
    raw = bytearray(archive_of(members.items(), zipfile.ZIP_DEFLATED))
    at = raw.find(b"PK\x03\x04")
    name_len, extra_len = struct.unpack("<HH", raw[at + 26 : at + 30])
    start = at + 30 + name_len + extra_len
    raw[start] ^= 0xFF
    raw[start + 1] ^= 0x55
    with pytest.raises(ImageFileError):
        AnalyzeImage.from_bytes(bytes(raw))


def test_wrong_crc_is_an_image_file_error(members):
    raw = bytearray(archive_of(members.items()))
    at = raw.find(b"PK\x03\x04")
    name_len, extra_len = struct.unpack("<HH", raw[at + 26 : at + 30])
    raw[at + 30 + name_len + extra_len] ^= 0x01  # first stored byte: CRC no longer matches
    with pytest.raises(ImageFileError):
        AnalyzeImage.from_bytes(bytes(raw))


@pytest.mark.parametrize("cut", [10, 40, 100, -30, -10])
def test_truncated_archive_is_an_image_file_error(members, cut):
    raw = archive_of(members.items())
    with pytest.raises(ImageFileError):
        AnalyzeImage.from_bytes(raw[:cut])


def test_missing_member_is_named(members):
    raw = archive_of([(n, c) for n, c in members.items() if n.endswith(".hdr")])
    with pytest.raises(ImageFileError, match=r"no \.img member"):
        AnalyzeImage.from_bytes(raw)


def test_an_unused_huge_member_is_never_inflated(members):
    comp = zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=comp) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        with archive.open("huge.bin", "w", force_zip64=True) as huge:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                huge.write(block)
    raw = out.getvalue()
    assert len(raw) < 1_000_000
    tracemalloc.start()
    img = AnalyzeImage.from_bytes(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(np.asarray(img.dataobj), DATA)
    assert peak < 4 * len(raw)  # was 459 MB for a 200 MB member


def test_a_member_declaring_a_false_size_is_refused(members):
    raw = archive_of(members.items())
    # the central directory's uncompressed size of each member (offset 24) is made larger
    raw = patch_headers(raw, (22, struct.pack("<I", 10**6)), (24, struct.pack("<I", 10**6)))
    with pytest.raises(ImageFileError):
        AnalyzeImage.from_bytes(raw)
