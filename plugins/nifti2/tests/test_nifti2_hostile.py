"""NIfTI-2 shares NIfTI-1's extension reading: vox_offset says where the data start."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from voxelio.errors import HeaderDataError
from voxelio_nifti2.image import Nifti2Image

DATA = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
VOX_OFFSET_AT = 168  # int64 after sizeof_hdr, magic, datatype, bitpix, dim, intent_p*, pixdim


def single_file(records: bytes, vox_offset: int) -> bytes:
    block = bytearray(Nifti2Image(DATA, np.eye(4)).to_bytes()[:540])
    block[VOX_OFFSET_AT : VOX_OFFSET_AT + 8] = struct.pack("<q", vox_offset)
    return bytes(block) + b"\x01\0\0\0" + records + DATA.tobytes("F")


def test_odd_extension_size_does_not_move_the_data():
    record = struct.pack("<ii", 20, 6) + b"hello world!"
    with pytest.warns(UserWarning, match="not multiples of 16"):
        img = Nifti2Image.from_bytes(single_file(record, 544 + 20))
    assert img.dataobj.offset == 564 and img.header.extensions[0].text == "hello world!"
    np.testing.assert_array_equal(np.asarray(img.dataobj), DATA)


@pytest.mark.parametrize("offset", [-1, 0, 100, 10**6])
def test_unusable_vox_offset_with_the_extension_flag_is_refused(offset):
    record = struct.pack("<ii", 16, 6) + b"abcdefgh"
    with pytest.raises(HeaderDataError, match="vox_offset"):
        Nifti2Image.from_bytes(single_file(record, offset))
