"""MGHHeader: fields, template protocol, checks, geometry, scan parameters."""

from __future__ import annotations

import numpy as np
import pytest

from voxelio.errors import HeaderDataError
from voxelio.structheader import INFO
from voxelio_mgh.header import DATA_OFFSET, HEADER_SIZE, MGHHeader, mgh_dtype

SUPPORTED = [np.uint8, np.int16, np.uint16, np.int32, np.float32]


def test_defaults_and_sizes():
    hdr = MGHHeader()
    assert mgh_dtype.itemsize == 110
    assert len(hdr.binaryblock) == 110
    assert hdr.endianness == ">"
    assert int(hdr["version"]) == 1
    assert hdr.get_data_shape() == (1, 1, 1)
    assert hdr.get_data_dtype() == np.dtype(">f4")
    assert hdr.get_zooms() == (1.0, 1.0, 1.0)
    assert hdr.get_data_offset() == DATA_OFFSET
    np.testing.assert_array_equal(
        hdr.get_affine(), [[-1, 0, 0, 0.5], [0, 0, -1, 0.5], [0, 1, 0, -0.5], [0, 0, 0, 1]]
    )


@pytest.mark.parametrize("dtype", SUPPORTED)
def test_supported_dtypes_round_trip(dtype):
    hdr = MGHHeader()
    hdr.set_data_dtype(dtype)
    assert hdr.get_data_dtype() == np.dtype(dtype).newbyteorder(">")


@pytest.mark.parametrize("dtype", [np.float64, np.int8, np.uint32, np.int64, np.complex64, bool])
def test_unsupported_dtype_names_supported_ones(dtype):
    with pytest.raises(HeaderDataError, match="uint8.*float32|float32.*uint8"):
        MGHHeader().set_data_dtype(dtype)


def test_supported_np_types_is_exact():
    from voxelio.dtypes import supported_np_types

    assert supported_np_types(MGHHeader) == set(SUPPORTED)


def test_only_big_endian():
    with pytest.raises(HeaderDataError, match="big-endian"):
        MGHHeader(endianness="<")
    with pytest.raises(HeaderDataError):
        MGHHeader().as_byteswapped("<")
    assert MGHHeader().as_byteswapped(">") == MGHHeader()


def test_shape_rules():
    hdr = MGHHeader()
    hdr.set_data_shape((2, 3, 4, 5))
    assert hdr.get_data_shape() == (2, 3, 4, 5)
    assert all(type(n) is int for n in hdr.get_data_shape())
    hdr.set_data_shape((7,))
    assert hdr.get_data_shape() == (7, 1, 1)
    hdr.set_data_shape((2, 3, 4, 1))
    assert hdr.get_data_shape() == (2, 3, 4)
    with pytest.raises(HeaderDataError, match="at most 4"):
        hdr.set_data_shape((1, 2, 3, 4, 5))
    with pytest.raises(HeaderDataError):
        hdr.set_data_shape((0, 2, 3))


def test_set_data_shape_resets_delta():
    hdr = MGHHeader()
    hdr["delta"] = [2, 3, 4]
    hdr.set_data_shape((4, 5, 6))
    assert hdr.get_zooms() == (1.0, 1.0, 1.0)


def test_zooms_with_tr():
    hdr = MGHHeader()
    hdr.set_data_shape((2, 3, 4, 5))
    hdr.set_zooms((1.5, 2.0, 2.5, 2000.0))
    assert hdr.get_zooms() == (1.5, 2.0, 2.5, 2000.0)
    assert float(hdr["tr"]) == 2000.0
    with pytest.raises(HeaderDataError):
        hdr.set_zooms((1, 1, 1))
    with pytest.raises(HeaderDataError):
        hdr.set_zooms((1, 0, 1, 1))
    with pytest.raises(HeaderDataError):
        hdr.set_zooms((1, 1, 1, -1))


def test_scan_parameters_by_name():
    hdr = MGHHeader()
    hdr.set_scan_parameters(tr=2300, flip_angle=0.15, te=2.9, ti=900, fov=256)
    assert hdr.scan_parameters == pytest.approx(
        {"tr": 2300, "flip_angle": 0.15, "te": 2.9, "ti": 900, "fov": 256}
    )
    hdr["te"] = 3.5
    assert float(hdr["te"]) == pytest.approx(3.5)
    with pytest.raises(HeaderDataError, match="known"):
        hdr.set_scan_parameters(echo=1)


def _block(**fields):
    hdr = MGHHeader()
    for name, value in fields.items():
        hdr[name] = value
    return hdr.binaryblock


def test_bad_version_is_an_error():
    with pytest.raises(HeaderDataError, match="version"):
        MGHHeader(_block(version=2))


def test_bad_dims_and_type_are_errors_not_keyerrors():
    with pytest.raises(HeaderDataError, match="non-zero"):
        MGHHeader(_block(dims=[0, 1, 1, 1]))
    with pytest.raises(HeaderDataError, match="not recognised"):
        MGHHeader(_block(type=99))
    with pytest.raises(HeaderDataError, match="not supported"):
        MGHHeader(_block(type=2))


def test_good_ras_flag_zero_gives_default_geometry():
    block = _block(goodRASFlag=0, delta=[2, 3, 4], Pxyz_c=[10, 20, 30], Mdc=np.eye(3))
    assert any("goodRASFlag" in r.problem_msg for r in MGHHeader(block, check=False).check())
    hdr = MGHHeader(block)
    assert [r.problem_level for r in hdr.load_reports] == [INFO]
    assert int(hdr["goodRASFlag"]) == 1
    np.testing.assert_array_equal(hdr["delta"], [1, 1, 1])
    np.testing.assert_array_equal(hdr["Pxyz_c"], [0, 0, 0])
    # FreeSurfer's coronal default: x_r = -1, y_s = -1, z_a = 1 (LIA)
    np.testing.assert_array_equal(hdr["Mdc"], [[-1, 0, 0], [0, 0, -1], [0, 1, 0]])


def test_vox2ras_and_back():
    hdr = MGHHeader()
    hdr.set_data_shape((10, 12, 14))
    affine = np.array([[0, 0, 2.0, -30], [-1.5, 0, 0, 40], [0, 3, 0, -12], [0, 0, 0, 1]])
    hdr.set_affine(affine)
    np.testing.assert_allclose(hdr.get_vox2ras(), affine, atol=1e-5)
    np.testing.assert_allclose(hdr.get_ras2vox() @ affine, np.eye(4), atol=1e-5)
    assert hdr.get_zooms() == pytest.approx((1.5, 3.0, 2.0))


def test_vox2ras_tkr():
    hdr = MGHHeader()
    hdr.set_data_shape((256, 256, 128))
    hdr.set_zooms((1, 1, 2))
    tkr = hdr.get_vox2ras_tkr()
    assert tkr.dtype == np.float32
    np.testing.assert_array_equal(
        tkr, [[-1, 0, 0, 128], [0, 0, 2, -128], [0, -1, 0, 128], [0, 0, 0, 1]]
    )


def test_copy_and_equality_include_tags_and_unused():
    from voxelio_mgh.tags import MGHTag

    hdr = MGHHeader()
    hdr.tags.append(MGHTag.from_text("PEDIR", "ROW"))
    other = hdr.copy()
    assert other == hdr and other.tags is not hdr.tags
    other.tags.append(MGHTag(99, b"x"))
    assert other != hdr
    third = hdr.copy()
    third.unused = b"\x01" + bytes(193)
    assert third != hdr


def test_header_block_is_90_bytes_on_disk():
    import io

    hdr = MGHHeader()
    out = io.BytesIO()
    hdr.write_to(out)
    assert len(out.getvalue()) == DATA_OFFSET
    assert out.getvalue()[:HEADER_SIZE] == hdr.binaryblock[:HEADER_SIZE]


class _ForeignHeader:
    def __init__(self, dtype, shape, zooms, unit="sec"):
        self._d, self._s, self._z, self._u = dtype, shape, zooms, unit

    def get_data_dtype(self):
        return np.dtype(self._d)

    def get_data_shape(self):
        return self._s

    def get_zooms(self):
        return self._z

    def get_xyzt_units(self):
        return ("mm", self._u)


def test_from_foreign_header_keeps_dtype_zooms_and_tr_in_ms():
    hdr = MGHHeader.from_header(_ForeignHeader(np.int16, (4, 5, 6, 7), (2.0, 3.0, 4.0, 2.5)))
    assert hdr.get_data_dtype() == np.dtype(">i2")
    assert hdr.get_data_shape() == (4, 5, 6, 7)
    assert hdr.get_zooms() == (2.0, 3.0, 4.0, 2500.0)
    msec = MGHHeader.from_header(_ForeignHeader(np.float64, (4, 5, 6, 7), (1, 1, 1, 800), "msec"))
    assert msec.get_data_dtype() == np.dtype(">f4")  # float64 not storable: default kept
    assert msec.get_zooms()[3] == 800.0


def test_units_are_fixed():
    assert MGHHeader().get_xyzt_units() == ("mm", "msec")
