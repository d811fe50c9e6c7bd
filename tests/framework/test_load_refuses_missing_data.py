"""A load refuses a file set whose data file is missing or short, without reading the data.

The check is made where the loader puts a proxy on the data
(voxelio.imagefiles.data_proxy): one stat, no open of the data file for a
plain one, no inflating of a compressed one.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError
from voxelio.filemaps import FileHolder

DATA = np.arange(2 * 3 * 4, dtype=np.int16).reshape((2, 3, 4))
PAIRS = ["analyze", "nifti1-pair", "nifti2-pair"]
CLASSES = {"analyze": "AnalyzeImage", "nifti1-pair": "Nifti1Pair", "nifti2-pair": "Nifti2Pair"}
AFFINE = np.diag([-1.0, 1, 1, 1])  # x flipped, as Analyze stores it: every pair keeps it


def _pair(tmp_path, format_name, suffix=".img"):
    klass = getattr(vx, CLASSES[format_name])
    vx.save(klass(DATA, AFFINE), tmp_path / f"p{suffix}", format=format_name)
    return tmp_path / f"p{suffix.replace('img', 'hdr')}", tmp_path / f"p{suffix}"


# -- opens seen by the interpreter (a real audit hook, switched on around a load) ---------
_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def _opened_during(work):
    global _OPENED
    _OPENED = []
    try:
        result = work()
        return result, list(_OPENED)
    finally:
        _OPENED = None


# -- refused at load ------------------------------------------------------------------------
@pytest.mark.parametrize("format_name", PAIRS)
def test_a_header_without_its_image_file_is_refused_at_load(tmp_path, format_name):
    hdr, img = _pair(tmp_path, format_name)
    os.remove(img)
    expected = (re.escape(f"image file {str(img)!r} does not exist: the header describes 48 "
                          "bytes of int16 data (2, 3, 4)"))
    with pytest.raises(ImageFileError, match=expected):
        vx.load(hdr)
    with pytest.raises(ImageFileError, match=expected):
        vx.load(hdr, format=format_name)


@pytest.mark.parametrize("format_name", PAIRS)
def test_the_refusal_of_the_format_that_claims_the_header_is_the_error(tmp_path, format_name):
    hdr, img = _pair(tmp_path, format_name)
    os.remove(img)
    with pytest.raises(ImageFileError) as info:
        vx.load(hdr)
    first, *rest = str(info.value).splitlines()
    assert first.startswith(f"cannot read {str(hdr)!r} as {format_name}: image file ")
    assert info.value.__cause__ is not None and str(info.value.__cause__) in first
    # a single-file format weakly accepting the header is named, its "truncated" is not
    text = str(info.value)
    assert "no installed format could read it" not in text
    assert "formats that declined" not in text and "truncated" not in text
    assert len(rest) <= 1 and all(line.startswith("hint: ") for line in rest)


@pytest.mark.parametrize("format_name", PAIRS)
def test_a_plain_image_file_shorter_than_the_data_is_refused_at_load(tmp_path, format_name):
    hdr, img = _pair(tmp_path, format_name)
    stored = img.read_bytes()
    img.write_bytes(stored[:-1])
    with pytest.raises(ImageFileError, match=re.escape(
        f"{str(img)!r} is truncated: the header describes 48 bytes of int16 data (2, 3, 4) "
        f"from byte 0, but the file has only {len(stored) - 1} bytes"
    )):
        vx.load(hdr)


@pytest.mark.parametrize("format_name", ["nifti1", "nifti2"])
def test_a_truncated_single_file_is_refused_at_load(tmp_path, format_name):
    path = tmp_path / "x.nii"
    vx.save(vx.Nifti1Image(DATA, np.eye(4)), path, format=format_name)
    stored = path.read_bytes()
    path.write_bytes(stored[:-1])
    with pytest.raises(ImageFileError, match=re.escape(
        f"{str(path)!r} is truncated: the header describes 48 bytes of int16 data (2, 3, 4) "
        f"from byte {len(stored) - 48}, but the file has only {len(stored) - 1} bytes"
        f" (read as {format_name})"  # the whole message: it names the file already
    ) + "$"):
        vx.load(path)


def test_a_file_of_the_exact_size_loads_and_one_longer_too(tmp_path):
    hdr, img = _pair(tmp_path, "nifti1-pair")
    assert img.stat().st_size == DATA.nbytes
    assert np.array_equal(vx.load(hdr).get_fdata(), DATA)
    img.write_bytes(img.read_bytes() + b"trailing bytes")
    assert np.array_equal(vx.load(hdr).get_fdata(), DATA)


# -- the data stay lazy ---------------------------------------------------------------------
# (vx.load also holds every file of the set open while it loads, to notice a
# save replacing them: voxelio._settled; the reading step itself is watched here)
def _read_file_set(klass, hdr):
    return klass.from_file_map(klass.filespec_to_file_map(str(hdr)))


@pytest.mark.parametrize("format_name", PAIRS)
def test_the_check_does_not_open_the_image_file(tmp_path, format_name):
    hdr, img = _pair(tmp_path, format_name)
    klass = getattr(vx, CLASSES[format_name])
    loaded, opened = _opened_during(lambda: _read_file_set(klass, hdr))
    assert str(hdr) in opened
    assert str(img) not in opened
    assert vx.is_proxy(loaded.dataobj)


def test_a_compressed_image_file_is_neither_opened_nor_refused(tmp_path):
    big = np.zeros((20, 30, 40), np.int16)  # compresses far below its size
    vx.save(vx.Nifti1Pair(big, np.eye(4)), tmp_path / "p.img.gz")
    assert (tmp_path / "p.img.gz").stat().st_size < big.nbytes
    loaded, opened = _opened_during(lambda: _read_file_set(vx.Nifti1Pair, tmp_path / "p.hdr.gz"))
    assert str(tmp_path / "p.img.gz") not in opened
    assert np.array_equal(loaded.get_fdata(), big)
    assert np.array_equal(vx.load(tmp_path / "p.hdr.gz").get_fdata(), big)


def test_compressed_content_under_a_plain_name_still_loads(tmp_path):
    big = np.zeros((20, 30, 40), np.int16)
    hdr, img = _pair(tmp_path, "nifti1-pair")
    vx.save(vx.Nifti1Pair(big, np.eye(4)), hdr)
    img.write_bytes(gzip.compress(img.read_bytes()))
    assert np.array_equal(vx.load(hdr).get_fdata(), big)


def test_a_compressed_image_file_too_small_for_any_expansion_is_refused(tmp_path):
    # 200 MB of int16 cannot come out of a few dozen gzip bytes
    hdr, _ = _pair(tmp_path, "nifti1-pair", ".img.gz")
    stored = bytearray(gzip.decompress(hdr.read_bytes()))
    stored[40:56] = np.array([3, 1000, 1000, 100, 1, 1, 1, 1], "<i2").tobytes()
    hdr.write_bytes(gzip.compress(bytes(stored)))
    with pytest.raises(ImageFileError, match="more than the gzip-compressed file"):
        vx.load(hdr)


def test_a_compressed_pair_header_without_its_image_file_is_refused_at_load(tmp_path):
    # it used to load as a single-file NIfTI-1 image (the header's 'ni1' stream read
    # as .nii: a compressed file's size does not show the data are missing)
    hdr, img = _pair(tmp_path, "nifti1-pair", ".img.gz")
    os.remove(img)
    with pytest.raises(ImageFileError, match=re.escape(
            f"image file {str(img)!r} does not exist: the header describes 48 bytes")):
        vx.load(hdr)
    with pytest.raises(ImageFileError, match="magic .ni1. says this is the header of a NIfTI"):
        vx.load(hdr, format="nifti1")


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_a_single_file_with_the_pair_magic_and_its_data_still_loads(tmp_path, suffix):
    stored = bytearray(vx.Nifti1Image(DATA, np.eye(4)).to_bytes())
    stored[344:348] = b"ni1\0"  # a wrong magic, as some writers leave it
    path = tmp_path / f"x{suffix}"
    path.write_bytes(gzip.compress(bytes(stored)) if suffix.endswith(".gz") else stored)
    loaded = vx.load(path)
    assert type(loaded).__name__ == "Nifti1Image"
    assert np.array_equal(loaded.get_fdata(), DATA)


def test_file_objects_short_of_their_data_are_refused_at_load():
    img = vx.Nifti1Pair(DATA, np.eye(4))
    hdr, data = io.BytesIO(), io.BytesIO()
    img.to_file_map({"header": FileHolder(fileobj=hdr), "image": FileHolder(fileobj=data)})
    short = io.BytesIO(data.getvalue()[:-2])
    # its size is a seek away: refused at load, as a named file is (was at the first read)
    with pytest.raises(ImageFileError, match=re.escape(
            "the BytesIO object is truncated: the header describes 48 bytes of int16 data "
            "(2, 3, 4) from byte 0, but it has only 46 bytes")):
        vx.Nifti1Pair.from_file_map(
            {"header": FileHolder(fileobj=io.BytesIO(hdr.getvalue())),
             "image": FileHolder(fileobj=short)})
    whole = vx.Nifti1Pair.from_bytes(img.to_bytes())
    assert np.array_equal(whole.get_fdata(), DATA)
    # compressed: only what no expansion can give is refused; the rest is read lazily
    packed = io.BytesIO(gzip.compress(data.getvalue()[:-2]))
    loaded = vx.Nifti1Pair.from_file_map(
        {"header": FileHolder(fileobj=io.BytesIO(hdr.getvalue())),
         "image": FileHolder(fileobj=packed)})
    with pytest.raises(ImageFileError):
        loaded.get_fdata()


# -- paths the check leaves alone ------------------------------------------------------------
def test_an_unseekable_stream_is_checked_when_read_not_at_load():
    from voxelio._streams import SpooledStream

    class Pipe(io.RawIOBase):  # read only, like a pipe
        def __init__(self, raw: bytes) -> None:
            self._src = io.BytesIO(raw)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            return self._src.readinto(buffer)

    raw = vx.Nifti1Image(DATA, np.eye(4)).to_bytes()[:-2]
    stream = SpooledStream(Pipe(raw))
    loaded = vx.Nifti1Image.from_file_map({"image": FileHolder(fileobj=stream)})
    assert stream.tell() < len(raw)  # not spooled to its end by the load
    with pytest.raises(ImageFileError):
        loaded.get_fdata()


def test_an_image_file_removed_after_the_load_is_named_when_read(tmp_path):
    hdr, img = _pair(tmp_path, "nifti1-pair")
    loaded = vx.load(hdr, mmap=False)
    os.remove(img)
    with pytest.raises(ImageFileError, match=re.escape(f"{str(img)!r} was removed")):
        loaded.get_fdata()
