"""AnalyzeHeader: layout, byte order, template protocol, checks, SPM fields."""

from __future__ import annotations

import numpy as np
import pytest
from analyze_samples import DTYPE_IDS, DTYPES, ORDERS

from voxelio.dtypes import RGB, supported_np_types
from voxelio.errors import HeaderDataError, HeaderTypeError
from voxelio.structheader import NATIVE, SWAPPED
from voxelio_analyze.header import DATA_TYPES, AnalyzeHeader

# (offset, name) of every field of the 348-byte layout
FIELD_OFFSETS = {
    "sizeof_hdr": 0, "data_type": 4, "db_name": 14, "extents": 32, "session_error": 36,
    "regular": 38, "hkey_un0": 39, "dim": 40, "vox_units": 56, "cal_units": 60,
    "unused1": 68, "datatype": 70, "bitpix": 72, "dim_un0": 74, "pixdim": 76,
    "vox_offset": 108, "funused1": 112, "funused2": 116, "funused3": 120, "cal_max": 124,
    "cal_min": 128, "compressed": 132, "verified": 136, "glmax": 140, "glmin": 144,
    "descrip": 148, "aux_file": 228, "orient": 252, "originator": 253, "generated": 263,
    "scannum": 273, "patient_id": 283, "exp_date": 293, "exp_time": 303, "hist_un0": 313,
    "views": 316, "vols_added": 320, "start_field": 324, "field_skip": 328, "omax": 332,
    "omin": 336, "smax": 340, "smin": 344,
}


def _header(shape=(4, 5, 6), zooms=(2.0, 3.0, 4.0), dtype=np.int16, order=NATIVE):
    hdr = AnalyzeHeader(endianness=order)
    hdr.set_data_dtype(dtype)
    hdr.set_data_shape(shape)
    hdr.set_zooms(zooms)
    return hdr


# -- layout -----------------------------------------------------------------------
def test_every_field_has_its_documented_offset():
    fields = AnalyzeHeader.template_dtype.fields
    assert AnalyzeHeader.template_dtype.itemsize == 348
    assert {name: fields[name][1] for name in fields} == FIELD_OFFSETS


def test_default_header_matches_the_format_defaults():
    hdr = AnalyzeHeader()
    assert len(hdr.binaryblock) == 348
    assert int(hdr["sizeof_hdr"]) == 348
    assert hdr["dim"].tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    assert hdr["pixdim"].tolist() == [1.0] * 8
    assert (int(hdr["datatype"]), int(hdr["bitpix"])) == (16, 32)
    assert hdr.get_data_shape() == (0,)
    assert hdr.get_zooms() == (1.0,)
    assert hdr.get_data_dtype() == np.float32
    assert hdr.check() == []


@pytest.mark.parametrize("name", sorted(FIELD_OFFSETS))
def test_each_field_is_settable_by_name_and_lands_at_its_offset(name):
    hdr = AnalyzeHeader(endianness="<")
    value = hdr[name]
    text = b"xy"[: value.dtype.itemsize]
    new = text if value.dtype.kind == "S" else np.full(value.shape, 7, dtype=value.dtype)
    hdr[name] = new
    raw = hdr.binaryblock[FIELD_OFFSETS[name]:]
    expected = text if value.dtype.kind == "S" else np.asarray(new, value.dtype).tobytes()
    assert raw.startswith(expected)


def test_unknown_field_name_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="no_such_field"):
        AnalyzeHeader()["no_such_field"]


# -- byte order ---------------------------------------------------------------------
@pytest.mark.parametrize("order", ORDERS)
def test_byte_order_is_guessed_from_dim0(order):
    block = _header(order=order).binaryblock
    hdr = AnalyzeHeader(block)
    assert hdr.endianness == order
    assert hdr.get_data_shape() == (4, 5, 6)
    assert hdr.get_data_dtype() == np.dtype(order + "i2")


@pytest.mark.parametrize("order", ORDERS)
def test_byte_order_with_dim0_zero_comes_from_sizeof_hdr(order):
    block = AnalyzeHeader(endianness=order).binaryblock
    assert AnalyzeHeader.guessed_endian(block) == order


def test_byte_order_guess_is_total_on_short_or_odd_blocks():
    assert AnalyzeHeader.guessed_endian(b"") == NATIVE
    assert AnalyzeHeader.guessed_endian(b"\x00" * 348) == NATIVE
    assert AnalyzeHeader.guessed_endian(b"\xff" * 348) == SWAPPED


@pytest.mark.parametrize("order", ORDERS)
def test_byteswapped_header_keeps_every_value(order):
    hdr = _header(order=order)
    hdr["origin"] = [2, 3, 4, 0, 0]
    hdr["funused1"] = 2.5
    hdr["descrip"] = b"swap me"
    other = hdr.as_byteswapped()
    assert other.endianness != order
    assert other == hdr
    assert other["origin"].tolist() == [2, 3, 4, 0, 0]
    assert float(other["scl_slope"]) == 2.5
    assert np.allclose(other.get_best_affine(), hdr.get_best_affine())
    assert other.as_byteswapped().binaryblock == hdr.binaryblock


@pytest.mark.parametrize("order", ORDERS)
def test_binaryblock_round_trips_byte_for_byte(order):
    hdr = _header(order=order)
    hdr["descrip"] = b"round trip"
    assert AnalyzeHeader(hdr.binaryblock).binaryblock == hdr.binaryblock


# -- data type -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_supported_dtype_sets_datatype_and_bitpix(dtype):
    hdr = AnalyzeHeader()
    hdr.set_data_dtype(dtype)
    assert int(hdr["bitpix"]) == dtype.itemsize * 8
    assert hdr.get_data_dtype().newbyteorder("=") == dtype.newbyteorder("=")
    assert int(hdr["datatype"]) == DATA_TYPES.code_for_dtype(dtype)


def test_supported_np_types_are_exactly_the_analyze_ones():
    assert supported_np_types(AnalyzeHeader) == {
        np.uint8, np.int16, np.int32, np.float32, np.float64, np.complex64,
    }
    assert DATA_TYPES.dtype(128) == RGB


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.float16, np.complex128])
def test_unsupported_dtype_raises_naming_the_supported_ones(dtype):
    with pytest.raises(HeaderDataError, match=r"supported: uint8, int16, int32, float32"):
        AnalyzeHeader().set_data_dtype(dtype)


# -- shape and zooms --------------------------------------------------------------------
def test_shape_and_zooms_round_trip_up_to_seven_axes():
    hdr = AnalyzeHeader()
    hdr.set_data_shape((2, 3, 4, 5, 6, 7, 8))
    hdr.set_zooms((1, 2, 3, 4, 5, 6, 7))
    assert hdr.get_data_shape() == (2, 3, 4, 5, 6, 7, 8)
    assert hdr.get_zooms() == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)


@pytest.mark.parametrize("shape", [(), (1,) * 8, (32768,), (-1, 2)])
def test_shape_the_header_cannot_hold_raises(shape):
    with pytest.raises(HeaderDataError):
        AnalyzeHeader().set_data_shape(shape)


@pytest.mark.parametrize("zooms", [(1.0, 2.0), (1.0, -2.0, 3.0), (1.0, np.inf, 1.0)])
def test_bad_zooms_raise(zooms):
    with pytest.raises(HeaderDataError):
        _header().set_zooms(zooms)


def test_base_affine_is_centred_with_x_flipped():
    hdr = _header(shape=(3, 5, 7), zooms=(3, 2, 1))
    expected = np.array(
        [[-3, 0, 0, 3], [0, 2, 0, -4], [0, 0, 1, -3], [0, 0, 0, 1]], dtype=float
    )
    assert np.array_equal(hdr.get_base_affine(), expected)
    assert np.array_equal(hdr.get_best_affine(), expected)


# -- SPM origin ----------------------------------------------------------------------------
def test_spm_origin_sets_the_translation():
    hdr = _header(shape=(3, 5, 7), zooms=(3, 2, 1))
    hdr["origin"][:3] = [3, 4, 5]
    expected = np.array(
        [[-3, 0, 0, 6], [0, 2, 0, -6], [0, 0, 1, -4], [0, 0, 0, 1]], dtype=float
    )
    assert np.array_equal(hdr.get_best_affine(), expected)
    assert hdr.binaryblock[253:259] == np.array([3, 4, 5], NATIVE + "i2").tobytes()


def test_origin_far_outside_the_volume_is_reported_and_ignored():
    hdr = _header(shape=(3, 5, 7))
    hdr["origin"][:3] = [100, 1, 1]
    assert np.array_equal(hdr.get_best_affine(), hdr.get_base_affine())
    reports = hdr.check()
    assert [r.problem_level for r in reports] == [20]
    assert "very large origin" in reports[0].message
    loaded = AnalyzeHeader(hdr.binaryblock)
    assert loaded["origin"][0] == 100
    assert "ignoring for affine" in loaded.load_reports[0].message


def test_origin_from_affine_round_trips():
    hdr = _header(shape=(3, 5, 7), zooms=(3, 2, 1))
    affine = np.diag([-3.0, 2.0, 1.0, 1.0])
    affine[:3, 3] = [6, -6, -4]
    hdr.set_origin_from_affine(affine)
    assert hdr["origin"][:3].tolist() == [3, 4, 5]
    assert np.array_equal(hdr.get_best_affine(), affine)
    hdr.set_origin_from_affine(hdr.get_base_affine())
    assert not np.any(hdr["origin"])


# -- SPM scaling ------------------------------------------------------------------------------
def test_default_header_is_unscaled():
    assert AnalyzeHeader().get_slope_inter() == (None, None)


@pytest.mark.parametrize("bad", [0.0, np.nan, np.inf, -np.inf])
def test_unusable_funused1_means_no_scaling(bad):
    hdr = AnalyzeHeader()
    hdr["funused1"] = bad
    assert hdr.get_slope_inter() == (None, None)


def test_funused1_is_the_spm_scale_factor_with_funused2_as_intercept():
    hdr = AnalyzeHeader()
    hdr["scl_slope"] = 1715.04
    assert hdr.get_slope_inter() == (pytest.approx(1715.04), 0.0)
    hdr["funused2"] = 0.5
    assert hdr.get_slope_inter() == (pytest.approx(1715.04), 0.5)
    hdr["funused2"] = np.nan
    assert hdr.get_slope_inter()[1] == 0.0


def test_spm2_calibration_fallback_needs_both_ranges():
    hdr = AnalyzeHeader()
    hdr["cal_max"], hdr["cal_min"] = 0.8, 0.2
    assert hdr.get_slope_inter() == (None, None)
    hdr["glmax"], hdr["glmin"] = 110, 10
    slope, inter = hdr.get_slope_inter()
    assert slope == pytest.approx(0.6 / 100)
    assert inter == pytest.approx(0.2 - 0.6 / 100 * 10)


def test_set_slope_inter_refuses_an_intercept():
    hdr = AnalyzeHeader()
    with pytest.raises(HeaderTypeError, match="intercept"):
        hdr.set_slope_inter(2.0, 1.0)
    hdr.set_slope_inter(2.0, np.nan)
    assert hdr.get_slope_inter() == (2.0, 0.0)
    hdr.set_slope_inter(None)
    assert hdr.get_slope_inter() == (1.0, 0.0)


def test_set_slope_inter_leaves_an_unscaled_header_unchanged():
    hdr = AnalyzeHeader()
    before = hdr.binaryblock
    hdr.set_slope_inter(1.0, 0.0)
    assert hdr.binaryblock == before


@pytest.mark.parametrize("bad", [0.0, np.inf])
def test_set_slope_inter_refuses_zero_or_infinite_slope(bad):
    with pytest.raises(HeaderDataError):
        AnalyzeHeader().set_slope_inter(bad)


# -- checks ----------------------------------------------------------------------------------
def _block_with(**fields):
    hdr = _header(order="<")
    for name, value in fields.items():
        hdr[name] = value
    return hdr.binaryblock


def test_wrong_sizeof_hdr_is_fixed_on_load():
    block = bytearray(_block_with())
    block[:4] = (347).to_bytes(4, "little")
    hdr = AnalyzeHeader(bytes(block))
    assert int(hdr["sizeof_hdr"]) == 348
    assert [r.problem_level for r in hdr.load_reports] == [30]
    assert "sizeof_hdr should be 348" in hdr.load_reports[0].message


@pytest.mark.parametrize("code", [3, 0, 1, 255, 256])
def test_unknown_or_unsupported_datatype_refuses_to_load(code):
    with pytest.raises(HeaderDataError, match=f"code {code}"):
        AnalyzeHeader(_block_with(datatype=code))


def test_wrong_bitpix_is_fixed_quietly():
    hdr = AnalyzeHeader(_block_with(bitpix=12))
    assert int(hdr["bitpix"]) == 16
    assert [r.problem_level for r in hdr.load_reports] == [10]


def test_zero_and_negative_pixdims_are_fixed():
    hdr = AnalyzeHeader(_block_with(pixdim=[1, 0, -2, 3, 1, 1, 1, 1]))
    assert hdr.get_zooms() == (1.0, 2.0, 3.0)
    assert hdr.load_reports[0].problem_level == 35
    assert "non-zero" in hdr.load_reports[0].message
    assert "positive" in hdr.load_reports[0].message


def test_check_does_not_change_the_header():
    hdr = AnalyzeHeader(_block_with(bitpix=12), check=False)
    assert len(hdr.check()) == 1
    assert int(hdr["bitpix"]) == 12


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"dim": [9, 1, 1, 1, 1, 1, 1, 1]}, "dim"),
        ({"dim": [3, 4, -5, 6, 1, 1, 1, 1]}, "negative"),
        ({"vox_offset": -4.0}, "vox_offset"),
        ({"vox_offset": np.nan}, "vox_offset"),
    ],
)
def test_corrupt_fields_give_header_data_errors(fields, match):
    with pytest.raises(HeaderDataError, match=match):
        AnalyzeHeader(_block_with(**fields))


@pytest.mark.parametrize("size", [0, 1, 40, 347])
def test_truncated_header_raises_header_data_error(size):
    with pytest.raises(HeaderDataError, match="truncated"):
        AnalyzeHeader(_block_with()[:size])


def test_from_header_of_another_class_keeps_dtype_shape_zooms():
    from voxelio.header import Header

    other = Header(np.int32, (3, 4, 5), (1.0, 2.0, 3.0))
    hdr = AnalyzeHeader.from_header(other)
    assert hdr.get_data_dtype() == np.int32
    assert hdr.get_data_shape() == (3, 4, 5)
    assert hdr.get_zooms() == (1.0, 2.0, 3.0)


def test_copy_is_independent_and_equal():
    hdr = _header()
    copy = hdr.copy()
    assert copy == hdr
    copy["origin"][0] = 9
    assert hdr["origin"][0] == 0
