"""A load of a damaged compressed file says the stream is damaged, however it is reached.

The formats refuse the short prefix ("only 0 bytes ..."); the reason the
prefix is short (the decompressor's error) must be in the message too,
for file objects and URLs as for names.
"""

from __future__ import annotations

import gzip
import io

import fsspec
import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError


@pytest.fixture
def damaged_gz(tmp_path):
    img = vx.Nifti1Image(np.arange(1000, dtype=np.int16).reshape(10, 10, 10), np.eye(4))
    vx.save(img, tmp_path / "a.nii.gz")
    raw = bytearray((tmp_path / "a.nii.gz").read_bytes())
    raw[12:40] = b"\xff" * 28  # the first deflate block header and beyond
    path = tmp_path / "bad.nii.gz"
    path.write_bytes(bytes(raw))
    return path


def _message(source) -> str:
    with pytest.raises(ImageFileError) as info:
        vx.load(source)
    return str(info.value)


def test_by_name_the_damage_is_named(damaged_gz):
    text = _message(str(damaged_gz))
    assert "reading stopped after 0 bytes" in text
    assert "corrupt" in text


def test_bytesio_the_damage_is_named(damaged_gz):
    text = _message(io.BytesIO(damaged_gz.read_bytes()))
    assert "reading stopped after 0 bytes" in text
    assert "corrupt" in text


def test_named_file_object_the_damage_is_named(damaged_gz):
    with open(damaged_gz, "rb") as fobj:
        text = _message(fobj)
        assert fobj.tell() == 0  # the examination put the position back
    assert "reading stopped after 0 bytes" in text
    assert "corrupt" in text


def test_url_the_damage_is_named(damaged_gz):
    url = "memory://damaged-stream-message/bad.nii.gz"
    with fsspec.open(url, "wb") as out:
        out.write(damaged_gz.read_bytes())
    try:
        text = _message(url)
    finally:
        fsspec.filesystem("memory").rm(url)
    assert "reading stopped after 0 bytes" in text
    assert "corrupt" in text


def test_an_intact_short_stream_gets_no_note():
    # a prefix cut short by the end of an intact stream is not damage
    text = _message(io.BytesIO(gzip.compress(bytes(10))))
    assert "only 10 bytes" in text
    assert "reading stopped" not in text
