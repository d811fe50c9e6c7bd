"""MGHImage: round trips, files and streams, tags, bad input, conversions."""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import HeaderDataError, ImageFileError, WriterError
from voxelio.proxy import is_proxy
from voxelio_mgh.header import DATA_OFFSET, MGHHeader
from voxelio_mgh.image import MGHImage
from voxelio_mgh.tags import MGHTag

DTYPES = [np.uint8, np.int16, np.uint16, np.int32, np.float32]
AFFINE = np.array([[-2.0, 0, 0, 30], [0, 0, 1.5, -20], [0, -3, 0, 25], [0, 0, 0, 1]])


def make_data(dtype, shape):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    data = np.arange(np.prod(shape)).reshape(shape, order="F")
    if info is not None:
        data = data % min(int(info.max), 1000) + (info.min if info.min < 0 else 0)
    return data.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 5, 6), (3, 4, 5, 2)])
@pytest.mark.parametrize("suffix", [".mgh", ".mgz", ".MGZ", ".Mgh"])
def test_file_round_trip(tmp_path, dtype, shape, suffix):
    data = make_data(dtype, shape)
    img = MGHImage(data, AFFINE)
    path = tmp_path / f"img{suffix}"
    vx.save(img, path)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == (suffix.lower() == ".mgz")
    back = vx.load(path)
    assert isinstance(back, MGHImage) and is_proxy(back.dataobj)
    assert back.get_data_dtype() == np.dtype(dtype).newbyteorder(">")
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)
    np.testing.assert_allclose(back.affine, AFFINE, atol=1e-5)
    np.testing.assert_array_equal(back.dataobj[1:3, ..., 0], data[1:3, ..., 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 5, 6), (3, 4, 5, 2)])
def test_bytes_round_trip(dtype, shape):
    data = make_data(dtype, shape)
    img = MGHImage(data, AFFINE)
    raw = img.to_bytes()
    assert len(raw) == DATA_OFFSET + data.nbytes + 20
    back = MGHImage.from_bytes(raw)
    np.testing.assert_array_equal(back.get_fdata(), data)
    assert back.to_bytes() == raw


def test_bytesio_file_map_and_gzip_stream():
    data = make_data(np.int16, (3, 4, 5))
    img = MGHImage(data, AFFINE)
    bio = io.BytesIO()
    img.to_file_map({"image": vx.FileHolder(fileobj=bio)})
    back = MGHImage.from_file_map({"image": vx.FileHolder(fileobj=io.BytesIO(bio.getvalue()))})
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)
    zipped = io.BytesIO(gzip.compress(bio.getvalue()))
    back = MGHImage.from_file_map({"image": vx.FileHolder(fileobj=zipped)})
    np.testing.assert_array_equal(np.asarray(back.dataobj), data)


def test_mgh_is_memory_mapped(tmp_path):
    path = tmp_path / "a.mgh"
    MGHImage(make_data(np.float32, (4, 4, 4)), AFFINE).to_filename(path)
    img = MGHImage.from_filename(path)
    assert img.dataobj._memmap() is not None


def test_tags_footer_and_unused_survive_byte_exact(tmp_path):
    img = MGHImage(make_data(np.float32, (3, 4, 5, 2)), AFFINE)
    hdr = img.header
    hdr.set_scan_parameters(tr=2300, flip_angle=0.2, te=2.9, ti=900, fov=256)
    hdr.tags.extend(
        [MGHTag.from_text("PEDIR", "UNKNOWN"), MGHTag(42, bytes(range(256)) * 3),
         MGHTag(777, b"unknown tag payload")]
    )
    hdr.tags.tail = struct.pack(">i", 20) + b"old surface geometry, no length"
    hdr.unused = bytes(range(194))
    path = tmp_path / "t.mgz"
    img.to_filename(path)
    first = gzip.decompress(path.read_bytes())
    back = vx.load(path)
    assert back.header.tags == hdr.tags
    assert back.header.tags.get(777).value == b"unknown tag payload"
    assert back.header.scan_parameters == pytest.approx(hdr.scan_parameters)
    assert back.header.get_zooms()[3] == pytest.approx(2300)
    vx.save(back, tmp_path / "again.mgz")
    assert gzip.decompress((tmp_path / "again.mgz").read_bytes()) == first
    assert back.to_bytes() == first


def test_small_ndim_is_padded():
    img = MGHImage(np.arange(5, dtype=np.float32), None)
    assert img.shape == (5, 1, 1)
    assert MGHImage(np.ones((2, 3), np.uint8), None).shape == (2, 3, 1)


def test_five_dims_refused():
    with pytest.raises(HeaderDataError, match="at most 4"):
        MGHImage(np.zeros((2, 2, 2, 2, 2), np.float32), AFFINE)


def test_float64_refused_with_advice():
    with pytest.raises(HeaderDataError, match="dtype"):
        MGHImage(np.zeros((2, 2, 2)), AFFINE)


def test_from_image_float64_names_supported_and_how_to_choose():
    class Other(vx.SpatialImage):
        pass

    src = Other(np.zeros((2, 3, 4)), AFFINE)
    with pytest.raises(HeaderDataError) as err:
        MGHImage.from_image(src)
    text = str(err.value)
    assert "float32" in text and "uint8" in text and "dtype=" in text
    good = MGHImage.from_image(src, dtype=np.float32)
    assert good.get_data_dtype() == np.dtype(">f4")


def test_no_silent_clipping():
    img = MGHImage(np.array([[[0.5, 300.0]]], dtype=np.float32), AFFINE)
    with pytest.raises(WriterError):
        img.to_bytes(dtype=np.uint8)
    ok = MGHImage.from_bytes(MGHImage(np.array([[[1.0, 200.0]]], np.float32), AFFINE)
                             .to_bytes(dtype=np.uint8))
    assert ok.get_data_dtype() == np.dtype("u1")


def test_save_dtype_option(tmp_path):
    img = MGHImage(make_data(np.float32, (2, 3, 4)), AFFINE)
    vx.save(img, tmp_path / "x.mgz", dtype=np.int16)
    assert vx.load(tmp_path / "x.mgz").get_data_dtype() == np.dtype(">i2")
    assert img.get_data_dtype() == np.dtype(">f4")


def test_slicer_keeps_world_geometry():
    img = MGHImage(make_data(np.float32, (6, 7, 8)), AFFINE)
    sub = img.slicer[1:4, 2:, ::2]
    back = MGHImage.from_bytes(sub.to_bytes())
    np.testing.assert_allclose(back.affine, sub.affine, atol=1e-5)
    np.testing.assert_array_equal(back.get_fdata(), img.get_fdata()[1:4, 2:, ::2])


# -- bad input --------------------------------------------------------------------------
def header_bytes(**fields) -> bytes:
    hdr = MGHHeader()
    for name, value in fields.items():
        hdr[name] = value
    out = io.BytesIO()
    hdr.write_to(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not an mgh file at all",
        b"\x1f\x8b\x08garbage" * 4,
        header_bytes(version=7),
        header_bytes(type=42),
        header_bytes(dims=[3, -1, 1, 1]),
        header_bytes(dims=[2**31 - 1] * 4),  # hostile: exabytes promised, none there
        header_bytes(dims=[10, 10, 10, 1])[:60],
        header_bytes(dims=[10, 10, 10, 1]) + bytes(100),  # truncated data
    ],
)
@pytest.mark.parametrize("suffix", [".mgh", ".mgz"])
def test_bad_files_give_image_file_error(tmp_path, content, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(ImageFileError):
        vx.load(path)
    with pytest.raises((ImageFileError, FileNotFoundError)):
        MGHImage.from_filename(path)


def test_missing_footer_reads_as_zero():
    raw = MGHImage(make_data(np.uint8, (2, 2, 2)), AFFINE).to_bytes()[:-20]
    img = MGHImage.from_bytes(raw)
    assert img.header.scan_parameters["tr"] == 0
    assert img.header.load_reports


def test_hostile_gzip_header_does_not_allocate(tmp_path):
    path = tmp_path / "hostile.mgz"
    path.write_bytes(gzip.compress(header_bytes(dims=[2**30, 2**30, 4, 1], type=3)))
    with pytest.raises(ImageFileError, match="truncated"):
        MGHImage.from_filename(path)
