"""The 540-byte NIfTI-2 header: layout, byte order, checks, intents, conversions."""

import io

import numpy as np
import pytest

from voxelio.errors import HeaderDataError, ImageFileError
from voxelio.structheader import NATIVE, SWAPPED
from voxelio_nifti1.header import Nifti1Header, Nifti1PairHeader
from voxelio_nifti2.header import Nifti2Header, Nifti2PairHeader

# byte offsets of the NIfTI-2 standard (nifti2.h)
OFFSETS = {
    "sizeof_hdr": 0, "magic": 4, "datatype": 12, "bitpix": 14, "dim": 16, "intent_p1": 80,
    "pixdim": 104, "vox_offset": 168, "scl_slope": 176, "cal_max": 192, "slice_duration": 208,
    "toffset": 216, "slice_start": 224, "slice_end": 232, "descrip": 240, "aux_file": 320,
    "qform_code": 344, "sform_code": 348, "quatern_b": 352, "qoffset_x": 376, "srow_x": 400,
    "srow_z": 464, "slice_code": 496, "xyzt_units": 500, "intent_code": 504,
    "intent_name": 508, "dim_info": 524,
}


def test_layout_matches_the_standard():
    fields = Nifti2Header.template_dtype.fields
    assert Nifti2Header.template_dtype.itemsize == 540
    assert {name: fields[name][1] for name in OFFSETS} == OFFSETS
    assert fields["dim"][0].base == np.dtype("i8") and fields["pixdim"][0].base == np.dtype("f8")


@pytest.mark.parametrize("order", ["<", ">"])
def test_default_header_bytes_and_byte_order_guess(order):
    hdr = Nifti2Header(endianness=order)
    block = hdr.binaryblock
    assert int.from_bytes(block[:4], "little" if order == "<" else "big") == 540
    assert block[4:12] == b"n+2\x00\r\n\x1a\n"
    assert Nifti2PairHeader(endianness=order).binaryblock[4:8] == b"ni2\x00"
    hdr.set_data_shape((70000, 3, 2))
    back = Nifti2Header(hdr.binaryblock)
    assert back.endianness == order
    assert back.get_data_shape() == (70000, 3, 2)
    assert back == hdr


def test_byte_order_guess_reads_the_int64_dim():
    hdr = Nifti2Header(endianness=SWAPPED)
    assert Nifti2Header.guessed_endian(hdr.binaryblock) == SWAPPED  # dim[0] == 0
    hdr.set_data_shape((2, 3, 4))
    assert Nifti2Header.guessed_endian(hdr.binaryblock) == SWAPPED
    assert Nifti2Header.guessed_endian(Nifti2Header(endianness=NATIVE).binaryblock) == NATIVE


def test_lengths_beyond_int16_are_stored_plainly():
    hdr = Nifti2Header()
    hdr.set_data_shape((163842, 1, 1))  # NIfTI-1 would use FreeSurfer's encoding
    assert hdr["dim"].tolist()[:4] == [3, 163842, 1, 1]
    hdr.set_data_shape((27307, 1, 6))  # a real shape, not FreeSurfer's ico7 mark
    assert hdr.get_data_shape() == (27307, 1, 6)
    hdr.set_data_shape((2**40, 3))
    assert hdr.get_data_shape() == (2**40, 3)
    with pytest.raises(HeaderDataError):
        hdr.set_data_shape((1,) * 8)


def test_nifti1_refuses_long_axes_and_names_nifti2():
    with pytest.raises(HeaderDataError, match="format='nifti2'"):
        Nifti1Header().set_data_shape((40000, 2, 2))


@pytest.mark.parametrize(
    ("eol", "level"), [((13, 10, 26, 10), None), ((0, 0, 0, 0), None), ((13, 13, 26, 10), 40)]
)
def test_eol_check(eol, level):
    hdr = Nifti2Header()
    hdr["eol_check"] = eol
    reports = [r for r in hdr.check() if "eol_check" in r.problem_msg]
    assert [r.problem_level for r in reports] == ([] if level is None else [level])
    if level:
        loaded = Nifti2Header(hdr.binaryblock)  # fixed on load, with the report kept
        assert loaded["eol_check"].tolist() == [13, 10, 26, 10]
        assert any("text mode" in r.message for r in loaded.load_reports)


def test_magic_check_names_the_nifti2_magics():
    hdr = Nifti2Header()
    hdr["magic"] = b"n+1"
    with pytest.raises(HeaderDataError, match=r"not valid \(n\+2 or ni2\)"):
        Nifti2Header(hdr.binaryblock)


def test_single_file_offset_minimum_is_544():
    hdr = Nifti2Header()
    assert hdr.minimum_data_offset() == 544
    hdr["vox_offset"] = 352
    reports = Nifti2Header(hdr.binaryblock).load_reports
    assert any("too low for single file nifti2" in r.message and "544" in r.message
               for r in reports)


def test_a_valid_slope_with_a_nan_intercept_is_reported_and_fixed_to_0():
    hdr = Nifti2Header()
    hdr["scl_slope"], hdr["scl_inter"] = 0.5, np.nan
    loaded = Nifti2Header(hdr.binaryblock)
    (report,) = loaded.load_reports
    assert report.problem_level == 30
    assert report.message == ("scl_inter is nan but scl_slope 0.5 scales the data (the "
                               "intercept must be finite); reading the values with intercept 0")
    assert loaded.get_slope_inter() == (0.5, 0.0)


def test_hostile_dims_whose_bytes_overflow_are_refused():
    hdr = Nifti2Header()
    hdr["dim"] = [3, 2**40, 2**40, 2**40, 1, 1, 1, 1]
    with pytest.raises(HeaderDataError, match="more than a file can hold"):
        Nifti2Header(hdr.binaryblock)


def test_a_nifti1_block_is_refused_naming_nifti1():
    block = Nifti1Header().binaryblock + b"\x00" * 300
    with pytest.raises(ImageFileError, match="NIfTI-1 file"):
        Nifti2Header.from_fileobj(io.BytesIO(block))


@pytest.mark.parametrize(
    ("klass", "low", "high"), [(Nifti1Header, 1e-9, 1e-6), (Nifti2Header, 0, 1e-14)]
)
def test_qform_keeps_the_precision_of_its_fields(klass, low, high):
    c, s = np.cos(0.3), np.sin(0.3)
    affine = np.array([[c, -s, 0, 1.1], [s, c, 0, -7.3], [0, 0, 1, 3.7], [0, 0, 0, 1]])
    hdr = klass()
    hdr.set_data_shape((2, 2, 2))
    hdr.set_qform(affine, "scanner")
    worst = np.abs(klass(hdr.binaryblock).get_qform() - affine).max()
    assert low <= worst < high  # float32 fields: ~1e-7; float64 ones: ~1e-16


def test_cifti_intents_are_named():
    hdr = Nifti2Header()
    hdr.set_intent("ConnDenseSeries", name="ConnDenseSeries")
    assert int(hdr["intent_code"]) == 3002
    assert hdr.get_intent() == ("ConnDenseSeries", (), "ConnDenseSeries")
    hdr.set_intent("NIFTI_INTENT_CONNECTIVITY_DENSE_SCALARS")
    assert hdr.get_intent("code") == (3006, (), "")
    hdr.set_intent("t test", (12.0,))  # NIfTI-1's table is still there
    assert hdr.get_intent() == ("t test", (12.0,), "")


def _full_nifti1_header(klass=Nifti1Header):
    hdr = klass(endianness=">")
    hdr.set_data_shape((4, 5, 6, 7))
    hdr.set_data_dtype(np.int16)
    hdr.set_zooms((2.0, 2.5, 3.0, 1.5))
    hdr.set_qform(np.diag([2.0, 2.5, 3.0, 1.0]), "scanner")
    hdr.set_sform(np.diag([-2.0, 2.5, 3.0, 1.0]) + np.eye(4)[:, [3]] * [[4], [5], [6], [0]],
                  "mni")
    hdr.set_xyzt_units("mm", "msec")
    hdr.set_intent("f test", (3.0, 17.0), "my stat")
    hdr.set_dim_info(freq=1, phase=0, slice=2)
    hdr.set_slice_duration(0.25)
    hdr["slice_start"], hdr["slice_end"], hdr["slice_code"] = 1, 4, 3
    hdr["descrip"], hdr["aux_file"] = b"a description", b"aux.txt"
    hdr["cal_min"], hdr["cal_max"], hdr["toffset"] = -3.5, 99.25, 12.5
    hdr.set_slope_inter(2.0, -1.0)
    from voxelio_nifti1.extensions import Nifti1Extension

    hdr.extensions.append(Nifti1Extension("comment", "kept"))
    return hdr


SHARED = (
    "datatype", "bitpix", "dim", "pixdim", "intent_p1", "intent_p2", "intent_code",
    "intent_name", "qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d",
    "qoffset_x", "srow_x", "srow_y", "srow_z", "xyzt_units", "dim_info", "slice_start",
    "slice_end", "slice_code", "slice_duration", "descrip", "aux_file", "cal_min", "cal_max",
    "toffset", "scl_slope", "scl_inter",
)


@pytest.mark.parametrize(
    ("source", "target"),
    [(Nifti1Header, Nifti2Header), (Nifti1PairHeader, Nifti2PairHeader),
     (Nifti1Header, Nifti2PairHeader)],
)
def test_nifti1_to_nifti2_and_back_keeps_every_shared_field(source, target):
    one = _full_nifti1_header(source)
    two = target.from_header(one)
    assert two.endianness == ">" and two["magic"] == target.magic
    for name in SHARED:
        assert np.array_equal(two[name], one[name]), name
    assert two.get_slice_times() == one.get_slice_times()
    assert np.allclose(two.get_best_affine(), one.get_best_affine())
    assert two.extensions == one.extensions
    again = source.from_header(two)
    assert again.binaryblock == one.binaryblock
    assert again.extensions == one.extensions


def test_freesurfer_long_vector_converts_both_ways():
    one = Nifti1Header()
    one.set_data_shape((200000, 1, 1, 2))
    assert int(one["dim"][1]) == -1
    two = Nifti2Header.from_header(one)
    assert two["dim"].tolist()[:5] == [4, 200000, 1, 1, 2]
    back = Nifti1Header.from_header(two)
    assert back.get_data_shape() == (200000, 1, 1, 2) and int(back["dim"][1]) == -1


@pytest.mark.parametrize(
    ("field", "value"),
    [("dim", [3, 40000, 2, 2, 1, 1, 1, 1]), ("slice_end", 40000), ("intent_code", 70000),
     ("pixdim", [1.0, 1e300, 1, 1, 1, 1, 1, 1])],
)
def test_nifti2_values_nifti1_cannot_hold_raise_naming_nifti2(field, value):
    two = Nifti2Header()
    two[field] = value
    with pytest.raises(HeaderDataError, match="nifti2"):
        Nifti1Header.from_header(two)


@pytest.mark.parametrize(("offset", "fits"), [(352.0, True), (1e30, False), (np.nan, False),
                                              (352.5, False)])
def test_nifti1_float_vox_offset_becomes_int64_only_when_whole(offset, fits):
    one = Nifti1Header()
    one["vox_offset"] = offset
    if fits:
        assert int(Nifti2Header.from_header(one)["vox_offset"]) == int(offset)
    else:
        with pytest.raises(HeaderDataError, match="vox_offset"):
            Nifti2Header.from_header(one)
