"""StructHeader: fields, byte order, byte-exact round trips, check/fix."""

from __future__ import annotations

import io

import numpy as np
import pytest

from voxelio.errors import HeaderDataError
from voxelio.structheader import SWAPPED, endian_code
from voxelio_toy.image import HEADER_SIZE, ToyHeader


def test_defaults_and_fields():
    hdr = ToyHeader()
    assert hdr["magic"] == b"VXT1"
    assert hdr["vox_offset"] == HEADER_SIZE
    assert "dims" in hdr and len(hdr) == len(hdr.keys())
    hdr["ndim"] = 3
    assert int(hdr["ndim"]) == 3
    with pytest.raises(KeyError, match="no field"):
        hdr["nonsense"]
    with pytest.raises(KeyError):
        hdr["nonsense"] = 1


@pytest.mark.parametrize("order", ["<", ">"])
def test_binaryblock_round_trip_both_orders(order):
    hdr = ToyHeader(endianness=order)
    hdr.set_data_shape((3, 4, 5))
    hdr.set_zooms((1.0, 2.0, 3.0))
    block = hdr.binaryblock
    assert len(block) == HEADER_SIZE
    again = ToyHeader(block)
    assert again.endianness == order
    assert again.binaryblock == block
    assert again == hdr
    assert ToyHeader.from_fileobj(io.BytesIO(block)) == hdr


def test_byteswapped_header_is_equal_but_different_bytes():
    hdr = ToyHeader()
    hdr.set_data_shape((7, 8))
    swapped = hdr.as_byteswapped()
    assert swapped.endianness == SWAPPED
    assert swapped.binaryblock != hdr.binaryblock
    assert swapped == hdr
    assert swapped.get_data_shape() == (7, 8)
    assert swapped.as_byteswapped().binaryblock == hdr.binaryblock


def test_truncated_block_is_a_header_error():
    with pytest.raises(HeaderDataError, match="truncated"):
        ToyHeader(b"VXT1" + b"\0" * 20)


def test_check_reports_without_changing_and_fix_mends():
    hdr = ToyHeader()
    hdr["zooms"] = [-1, 2, 3, 1, 1, 1, 1]
    reports = hdr.check()
    assert [r.problem_msg for r in reports] == ["zooms should be positive"]
    assert hdr["zooms"][0] == -1
    fixed = hdr.check_fix()
    assert fixed[0].fix_msg and hdr["zooms"][0] == 1


def test_check_fix_raises_at_error_level_even_for_fixed_problems(caplog):
    # NiBabel's semantics: a problem at or above error_level raises whether a
    # check could mend it or not; every problem is logged first
    hdr = ToyHeader()
    hdr["zooms"] = [-1, 2, 3, 1, 1, 1, 1]  # level 30, fixable
    with caplog.at_level("DEBUG", logger="voxelio.header"), pytest.raises(
            HeaderDataError, match="zooms should be positive$"):
        hdr.check_fix(error_level=30)
    assert hdr["zooms"][0] == 1  # the fix was made before raising
    assert [r.getMessage() for r in caplog.records] == [
        "zooms should be positive; setting to absolute values"
    ]
    assert caplog.records[0].levelno == 30
    again = ToyHeader()
    again["zooms"] = [-1, 2, 3, 1, 1, 1, 1]
    assert [r.fix_msg for r in again.check_fix(error_level=31)] == ["setting to absolute values"]


def test_loading_fixes_moderate_problems_and_records_them():
    hdr = ToyHeader()
    hdr["zooms"] = [-2, 2, 3, 1, 1, 1, 1]
    loaded = ToyHeader(hdr.binaryblock)
    assert loaded["zooms"][0] == 2
    assert loaded.load_reports and "positive" in loaded.load_reports[0].message


def test_serious_problems_refuse_to_load():
    hdr = ToyHeader()
    hdr["datatype"] = 99
    with pytest.raises(HeaderDataError, match="not supported"):
        ToyHeader(hdr.binaryblock)
    hdr["magic"] = b"XXXX"
    with pytest.raises(HeaderDataError, match="magic"):
        ToyHeader(hdr.binaryblock)
    assert ToyHeader(hdr.binaryblock, check=False)["magic"] == b"XXXX"


def test_dtype_errors_name_supported_types():
    hdr = ToyHeader()
    with pytest.raises(HeaderDataError, match="supported: .*float32"):
        hdr.set_data_dtype(np.float16)


def test_endian_names():
    assert endian_code("little") == "<" and endian_code("big") == ">"
    with pytest.raises(HeaderDataError):
        endian_code("sideways")


def test_str_lists_fields():
    text = str(ToyHeader())
    assert "vox_offset" in text and "endian" in text


class AliasedToyHeader(ToyHeader):
    # the four magic bytes seen as one int32: an alias over a text field
    field_aliases = {"magic_number": (0, "i4", ())}


@pytest.mark.parametrize("order", ["<", ">"])
def test_field_aliases_read_write_and_survive_byteswapping(order):
    hdr = AliasedToyHeader(endianness=order)
    assert "magic_number" in hdr and hdr.get("magic_number") is not None
    hdr["magic_number"] = 123456
    assert int(hdr["magic_number"]) == 123456
    swapped = hdr.as_byteswapped()
    assert int(swapped["magic_number"]) == 123456
    assert swapped.binaryblock[:4] != hdr.binaryblock[:4]
    with pytest.raises(HeaderDataError):
        hdr["magic_number"] = "not a number"


def test_a_load_logs_header_problems_naming_the_file(tmp_path, caplog):
    import struct

    import numpy as np

    import voxelio as vx

    path = tmp_path / "zoom.nii"
    vx.save(vx.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4)), path)
    raw = bytearray(path.read_bytes())
    raw[80:84] = struct.pack("<f", -2.0)
    path.write_bytes(bytes(raw))
    with caplog.at_level("INFO", logger="voxelio.header"):
        vx.load(path)
    messages = {r.getMessage() for r in caplog.records}
    assert f"{path}: pixdim[1,2,3] should be positive; setting zero sizes to 1 and " \
        "negative sizes to their absolute values" in messages
    # outside a load (a header checked by itself) the line is the problem alone
    caplog.clear()
    with caplog.at_level("INFO", logger="voxelio.header"):
        vx.Nifti1Header(bytes(raw[:348]))
    assert caplog.records[0].getMessage().startswith("pixdim[1,2,3] should be positive")
