"""FreeSurfer tags after the footer: parsing, tail, serialisation."""

from __future__ import annotations

import struct

import pytest

from voxelio_mgh.tags import TAG_NAMES, MGHTag, MGHTags, tag_code


def rec(ident: int, data: bytes) -> bytes:
    return struct.pack(">iq", ident, len(data)) + data


def test_ids_match_freesurfer_tags_h():
    assert TAG_NAMES[3] == "CMDLINE"
    assert TAG_NAMES[31] == "MGH_XFORM"
    assert TAG_NAMES[41] == "PEDIR"
    assert TAG_NAMES[42] == "MRI_FRAME"
    assert TAG_NAMES[43] == "FIELDSTRENGTH"
    assert tag_code("TAG_PEDIR") == 41 and tag_code("mri_frame") == 42


def test_parse_records_and_round_trip():
    raw = rec(41, b"UNKNOWN") + rec(42, bytes(32)) + rec(3, b"mri_convert a b\x00")
    tags = MGHTags.from_bytes(raw)
    assert [t.tag_id for t in tags] == [41, 42, 3]
    assert tags.get("PEDIR").value == "UNKNOWN"
    assert tags.get(3).value == "mri_convert a b"
    assert tags.get(42).value == bytes(32)
    assert tags.tail == b""
    assert tags.to_bytes() == raw


@pytest.mark.parametrize("lengthless", [1, 2, 10, 11, 12, 20, 30])
def test_records_without_int64_length_go_to_the_tail(lengthless):
    rest = struct.pack(">i", lengthless) + b"opaque payload" + rec(41, b"ROW")
    raw = rec(31, b"talairach.xfm") + rest
    tags = MGHTags.from_bytes(raw)
    assert [t.tag_id for t in tags] == [31]
    assert tags.tail == rest
    assert tags.to_bytes() == raw


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00",
        b"\x00\x00\x00",
        struct.pack(">iq", 41, 10**12) + b"short",
        struct.pack(">iq", 41, -5) + b"neg",
        struct.pack(">iq", 0, 0),
        struct.pack(">iq", -3, 2) + b"ab",
        rec(41, b"ok") + b"\x00\x00\x00\x29\x00",
    ],
)
def test_malformed_bytes_never_raise_and_round_trip(raw):
    tags = MGHTags.from_bytes(raw)
    assert tags.to_bytes() == raw


def test_edit_tags():
    tags = MGHTags([MGHTag.from_text("PEDIR", "ROW")])
    tags.set(MGHTag.from_text("PEDIR", "COL"))
    tags.set(MGHTag.from_text("CMDLINE", "x y", nul=True))
    assert [t.value for t in tags] == ["COL", "x y"]
    tags.remove_id("PEDIR")
    assert [t.name for t in tags] == ["CMDLINE"]
    assert tags.get_all(3)[0].data == b"x y\x00"
    assert tags.nbytes == 12 + 4


def test_invalid_tags_refused():
    with pytest.raises(ValueError):
        MGHTag(0, b"")
    with pytest.raises(ValueError, match="raw bytes"):
        MGHTag(20, b"geometry")
    with pytest.raises(KeyError, match="unknown MGH tag"):
        tag_code("NOT_A_TAG")
    with pytest.raises(TypeError):
        MGHTags(["not a tag"]).to_bytes()


def test_equality_includes_tail():
    assert MGHTags([], b"a") != MGHTags([], b"b")
    assert MGHTags([MGHTag(5, b"c")]) == MGHTags([MGHTag(5, b"c")])
    assert "tail" in repr(MGHTags([], b"a"))
