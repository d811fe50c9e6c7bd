"""AnalyzeImage: round trips, compression, file objects, scaling, bad input."""

from __future__ import annotations

import gzip
import io
import os
import re

import numpy as np
import pytest
from analyze_samples import (
    COMPRESSIONS,
    DTYPE_IDS,
    DTYPES,
    ORDERS,
    SHAPE,
    sample_affine,
    sample_array,
)
from numpy.testing import assert_array_equal

import voxelio as vx
from voxelio.errors import (
    ConversionWarning,
    HeaderDataError,
    ImageFileError,
    VoxelioError,
    WriterError,
)
from voxelio.filemaps import FileHolder
from voxelio_analyze.header import AnalyzeHeader
from voxelio_analyze.image import AnalyzeImage

#: x flipped, as Analyze stores it: saving an image with this affine loses nothing
FLIPPED = np.diag([-1.0, 1, 1, 1])


def _image(dtype, order="<", shape=SHAPE):
    hdr = AnalyzeHeader(endianness=order)
    hdr.set_data_dtype(dtype)
    return AnalyzeImage(sample_array(dtype, shape), sample_affine(), hdr)


def _assert_same_data(img, expected):
    got = np.asarray(img.dataobj)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


# -- files --------------------------------------------------------------------------
@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_every_dtype_round_trips_through_files(tmp_path, dtype, order, compression):
    img = _image(dtype, order)
    path = tmp_path / f"sample.hdr{compression}"
    img.to_filename(path)
    assert os.path.exists(tmp_path / f"sample.img{compression}")
    back = AnalyzeImage.from_filename(tmp_path / f"sample.img{compression}")
    assert back.header.endianness == order
    assert back.get_data_dtype() == img.get_data_dtype()
    assert np.array_equal(back.affine, sample_affine())
    _assert_same_data(back, sample_array(dtype))
    assert back.header.binaryblock == AnalyzeHeader(back.header.binaryblock).binaryblock


@pytest.mark.parametrize("compression", ["", ".gz"])
def test_voxelio_load_dispatches_to_analyze(tmp_path, compression):
    _image(np.int16).to_filename(tmp_path / f"x.img{compression}")
    for name in (f"x.hdr{compression}", f"x.img{compression}"):
        img = vx.load(tmp_path / name)
        assert isinstance(img, AnalyzeImage)
        assert img.format_name == "analyze"
        _assert_same_data(img, sample_array(np.dtype(np.int16)))


def test_compressed_files_are_compressed(tmp_path):
    _image(np.int16).to_filename(tmp_path / "x.hdr.gz")
    assert (tmp_path / "x.hdr.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "x.img.gz").read_bytes()[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_every_dtype_round_trips_through_bytesio(dtype, order):
    img = _image(dtype, order)
    file_map = {
        "header": FileHolder(fileobj=io.BytesIO()),
        "image": FileHolder(fileobj=io.BytesIO()),
    }
    img.to_file_map(file_map)
    back = AnalyzeImage.from_file_map(file_map)
    assert back.header.endianness == order
    _assert_same_data(back, sample_array(dtype))
    assert len(file_map["header"].fileobj.getvalue()) == 348


def test_bytesio_round_trip_of_the_seed(tmp_path):
    img = _image(np.int16)
    file_map = AnalyzeImage.make_file_map()
    file_map["image"].fileobj = io.BytesIO()
    file_map["header"].fileobj = io.BytesIO()
    img.file_map = file_map
    img.to_file_map()
    img2 = AnalyzeImage.from_file_map(file_map)
    img2.to_file_map()
    img3 = AnalyzeImage.from_file_map(file_map)
    _assert_same_data(img3, sample_array(np.dtype(np.int16)))


def test_data_after_a_prefix_in_a_file_object_is_found_at_pos():
    img = _image(np.float32)
    header, image = io.BytesIO(b"x" * 10), io.BytesIO(b"y" * 7)
    file_map = {
        "header": FileHolder(fileobj=header, pos=10),
        "image": FileHolder(fileobj=image, pos=7),
    }
    img.to_file_map(file_map)
    back = AnalyzeImage.from_file_map(file_map)
    _assert_same_data(back, sample_array(np.dtype(np.float32)))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_to_bytes_from_bytes_round_trip(dtype):
    img = _image(dtype)
    back = AnalyzeImage.from_bytes(img.to_bytes())
    _assert_same_data(back, sample_array(dtype))


def test_proxy_slices_equal_full_reads(tmp_path):
    _image(np.int32).to_filename(tmp_path / "x.img.gz")
    img = AnalyzeImage.from_filename(tmp_path / "x.img.gz")
    full = sample_array(np.dtype(np.int32))
    assert vx.is_proxy(img.dataobj)
    for index in [(0,), (slice(1, 3), 2), (..., 1), (slice(None, None, -2), 0, 1, 1)]:
        assert np.array_equal(img.dataobj[index], full[index])


def test_vox_offset_of_a_foreign_file_is_honoured(tmp_path):
    hdr = AnalyzeHeader()
    hdr.set_data_dtype(np.int16)
    hdr.set_data_shape((2, 3))
    hdr["vox_offset"] = 16
    data = np.arange(6, dtype=np.int16).reshape((2, 3))
    (tmp_path / "x.hdr").write_bytes(hdr.binaryblock)
    (tmp_path / "x.img").write_bytes(b"\x00" * 16 + data.tobytes(order="F"))
    _assert_same_data(AnalyzeImage.from_filename(tmp_path / "x.hdr"), data)


# -- affine -------------------------------------------------------------------------------
def test_no_affine_gives_the_centred_flipped_default(tmp_path):
    AnalyzeImage(np.zeros((3, 5, 7), np.uint8), None).to_filename(tmp_path / "x.hdr")
    img = AnalyzeImage.from_filename(tmp_path / "x.hdr")
    assert np.array_equal(img.affine, img.header.get_base_affine())
    assert img.affine[0, 0] == -1
    assert not np.any(img.header["origin"])


def test_rotations_are_lost_but_sizes_and_origin_kept(tmp_path):
    c, s = np.cos(0.3), np.sin(0.3)
    affine = np.array([[2 * c, -3 * s, 0, 4], [2 * s, 3 * c, 0, -5], [0, 0, 4, 6], [0, 0, 0, 1]])
    with pytest.warns(ConversionWarning, match=re.escape("the full affine (voxel sizes kept)")):
        AnalyzeImage(np.zeros((3, 4, 5), np.uint8), affine).to_filename(tmp_path / "x.hdr")
    img = AnalyzeImage.from_filename(tmp_path / "x.hdr")
    assert np.allclose(img.header.get_zooms(), (2, 3, 4))
    assert img.header.origin_is_usable()


# -- scaling -----------------------------------------------------------------------------------
def test_float_data_saved_as_int16_use_the_spm_scale_factor(tmp_path):
    data = np.linspace(0, 1, 60).reshape((3, 4, 5))
    AnalyzeImage(data, FLIPPED).to_filename(tmp_path / "x.hdr", dtype=np.int16)
    img = AnalyzeImage.from_filename(tmp_path / "x.hdr")
    slope, inter = img.header.get_slope_inter()
    assert slope != 1 and inter == 0
    assert float(img.header["funused1"]) == slope
    assert np.allclose(img.get_fdata(), data, atol=slope)


def test_resaving_a_scaled_file_keeps_stored_values_and_scale(tmp_path):
    data = np.linspace(0, 1, 60).reshape((3, 4, 5))
    AnalyzeImage(data, FLIPPED).to_filename(tmp_path / "a.hdr", dtype=np.int16)
    first = AnalyzeImage.from_filename(tmp_path / "a.hdr")
    first.to_filename(tmp_path / "b.hdr")
    assert (tmp_path / "a.img").read_bytes() == (tmp_path / "b.img").read_bytes()
    assert (tmp_path / "a.hdr").read_bytes() == (tmp_path / "b.hdr").read_bytes()


def test_data_needing_an_intercept_refuse_to_save_with_a_clear_error(tmp_path):
    data = np.linspace(-5, 10, 60).reshape((3, 4, 5))
    with pytest.raises(WriterError, match="no intercept"):
        AnalyzeImage(data, FLIPPED).to_filename(tmp_path / "x.hdr", dtype=np.uint8)
    assert not os.path.exists(tmp_path / "x.hdr")


def test_negative_data_into_uint8_refuse_to_save(tmp_path):
    data = np.arange(-5, 55, dtype=np.int16).reshape((3, 4, 5))
    with pytest.raises(WriterError):
        AnalyzeImage(data, FLIPPED).to_filename(tmp_path / "x.hdr", dtype=np.uint8)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.float16, np.complex128])
def test_unsupported_dtypes_raise_a_voxelio_error_naming_the_supported(tmp_path, dtype):
    with pytest.raises(HeaderDataError, match="supported: uint8, int16, int32"):
        AnalyzeImage(np.zeros((2, 2), dtype), FLIPPED)
    img = AnalyzeImage(np.zeros((2, 2), np.int16), FLIPPED)
    with pytest.raises(HeaderDataError, match="supported: uint8, int16, int32"):
        img.to_filename(tmp_path / "x.hdr", dtype=dtype)


def test_float64_data_stay_float64_on_disk(tmp_path):
    AnalyzeImage(np.ones((2, 2)), FLIPPED).to_filename(tmp_path / "x.hdr")
    assert AnalyzeImage.from_filename(tmp_path / "x.hdr").get_data_dtype() == np.float64


def test_big_endian_header_gives_big_endian_file(tmp_path):
    hdr = AnalyzeHeader(endianness=">")
    hdr.set_data_dtype(np.int16)
    AnalyzeImage(np.arange(6, dtype=np.int16).reshape(2, 3), None, hdr).to_filename(
        tmp_path / "x.hdr"
    )
    assert (tmp_path / "x.hdr").read_bytes()[:4] == (348).to_bytes(4, "big")
    expected = np.arange(6, dtype=">i2").reshape(2, 3).tobytes(order="F")
    assert (tmp_path / "x.img").read_bytes() == expected


def test_data_dtype_byte_order_alone_does_not_set_header_byte_order(tmp_path):
    data = np.arange(6, dtype=">i2").reshape(2, 3)
    AnalyzeImage(data, None).to_filename(tmp_path / "x.hdr")
    img = AnalyzeImage.from_filename(tmp_path / "x.hdr")
    assert img.header.endianness == "<" if os.sys.byteorder == "little" else ">"
    _assert_same_data(img, data)


# -- missing and bad files ------------------------------------------------------------------
def test_header_without_image_file_is_refused_at_load_naming_the_file(tmp_path):
    _image(np.int16).to_filename(tmp_path / "x.hdr")
    os.remove(tmp_path / "x.img")
    missing = re.escape(repr(str(tmp_path / "x.img"))) + " does not exist"
    with pytest.raises(ImageFileError, match=missing):
        vx.load(tmp_path / "x.hdr")
    with pytest.raises(ImageFileError, match=missing):
        AnalyzeImage.from_filename(tmp_path / "x.hdr")


def test_image_file_removed_after_the_load_is_named_at_data_access(tmp_path):
    _image(np.int16).to_filename(tmp_path / "x.hdr")
    img = vx.load(tmp_path / "x.hdr", mmap=False)
    os.remove(tmp_path / "x.img")
    with pytest.raises(ImageFileError, match=r"x\.img"):
        img.get_fdata()
    with pytest.raises(ImageFileError, match=r"x\.img"):
        img.dataobj[0]


def test_missing_header_file_is_an_image_file_error(tmp_path):
    _image(np.int16).to_filename(tmp_path / "x.hdr")
    os.remove(tmp_path / "x.hdr")
    with pytest.raises(ImageFileError, match=r"x\.hdr"):
        AnalyzeImage.from_filename(tmp_path / "x.img")


def test_short_image_file_is_refused_at_load_with_both_sizes(tmp_path):
    _image(np.int32).to_filename(tmp_path / "x.hdr")
    blob = (tmp_path / "x.img").read_bytes()
    (tmp_path / "x.img").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ImageFileError, match=rf"x\.img'? is truncated: .*{len(blob)} bytes .*"
                       rf"only {len(blob) // 2} bytes"):
        AnalyzeImage.from_filename(tmp_path / "x.hdr")


def test_compressed_image_file_shorter_than_its_data_still_loads(tmp_path):
    # the stored size of a compressed file says nothing exact about its data:
    # the load must not refuse it (nor inflate it to find out)
    data = np.zeros((20, 30, 40), np.int16)
    AnalyzeImage(data, FLIPPED).to_filename(tmp_path / "x.img.gz")
    assert (tmp_path / "x.img.gz").stat().st_size < data.nbytes
    img = vx.load(tmp_path / "x.hdr.gz")
    assert_array_equal(img.get_fdata(), data)
    # the same with gzip content under a plain name (recognised by content)
    (tmp_path / "y.hdr").write_bytes(gzip.decompress((tmp_path / "x.hdr.gz").read_bytes()))
    (tmp_path / "y.img").write_bytes((tmp_path / "x.img.gz").read_bytes())
    assert_array_equal(vx.load(tmp_path / "y.hdr").get_fdata(), data)


def test_huge_dims_in_a_small_file_do_not_allocate(tmp_path):
    hdr = AnalyzeHeader()
    hdr.set_data_dtype(np.float64)
    hdr.set_data_shape((32767, 32767, 32767))
    (tmp_path / "x.hdr").write_bytes(hdr.binaryblock)
    (tmp_path / "x.img").write_bytes(b"\x00" * 64)
    with pytest.raises(VoxelioError):
        AnalyzeImage.from_filename(tmp_path / "x.hdr")


@pytest.mark.parametrize("blob", [b"", b"\x00" * 100, b"not a header at all" * 30])
def test_garbage_headers_give_voxelio_errors(tmp_path, blob):
    (tmp_path / "x.hdr").write_bytes(blob)
    (tmp_path / "x.img").write_bytes(b"")
    with pytest.raises(VoxelioError):
        AnalyzeImage.from_filename(tmp_path / "x.hdr")


def test_random_headers_never_raise_anything_but_voxelio_errors(tmp_path):
    rng = np.random.default_rng(0)
    base = bytearray(_image(np.int16).header.binaryblock)
    for _ in range(200):
        block = bytearray(base)
        for pos in rng.integers(0, 348, size=8):
            block[pos] = int(rng.integers(0, 256))
        file_map = {
            "header": FileHolder(fileobj=io.BytesIO(bytes(block))),
            "image": FileHolder(fileobj=io.BytesIO(b"\x01" * 300)),
        }
        try:
            img = AnalyzeImage.from_file_map(file_map)
            np.asarray(img.dataobj)
        except VoxelioError:
            pass


def test_file_map_without_an_image_entry_is_refused():
    with pytest.raises(ImageFileError, match="image"):
        _image(np.int16).to_file_map({"header": FileHolder(fileobj=io.BytesIO())})


def test_wrong_extension_is_refused(tmp_path):
    with pytest.raises(ImageFileError):
        _image(np.int16).to_filename(tmp_path / "x.nii")
