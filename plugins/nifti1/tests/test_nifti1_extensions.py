import io

import numpy as np
import pytest

from voxelio_nifti1.extensions import Nifti1Extension, Nifti1Extensions
from voxelio_nifti1.image import Nifti1Image


def test_record_size_is_multiple_of_16_and_text_readable():
    ext = Nifti1Extension("comment", "hello")
    assert ext.get_sizeondisk() == 16
    assert ext.text == "hello" and ext.code == 6 and ext.label == "comment"
    raw = ext.to_bytes("<")
    assert len(raw) == 16 and raw[8:13] == b"hello"


def test_unknown_codes_kept_and_written_back_byte_exact():
    payload = b"\x01\x02\x03" + b"\x00" * 5 + b"tail"  # zeros inside, padding after
    region = np.array([48, 999], "<i4").tobytes() + payload + b"\x00" * (40 - len(payload))
    exts, reports = Nifti1Extensions.from_bytes(region, "<")
    assert not reports and exts.get_codes() == [999]
    assert exts.to_bytes("<") == region


def test_malformed_region_keeps_what_was_read():
    good = Nifti1Extension(6, "ok").to_bytes("<")
    bad = np.array([4000, 6], "<i4").tobytes() + b"x" * 8
    exts, reports = Nifti1Extensions.from_bytes(good + bad, "<")
    assert exts.get_codes() == [6] and reports


@pytest.mark.parametrize("order", ["<", ">"])
def test_image_with_extensions_round_trips(order):
    from voxelio_nifti1.header import Nifti1Header

    hdr = Nifti1Header(endianness=order)
    hdr.extensions.append(Nifti1Extension("comment", "a comment"))
    hdr.extensions.append(Nifti1Extension(4, "<AFNI_attributes/>"))
    hdr.extensions.append(Nifti1Extension(1234, b"\x00\x01binary"))
    img = Nifti1Image(np.arange(6, dtype=np.int16).reshape(1, 2, 3), np.eye(4), hdr)
    data = img.to_bytes()
    back = Nifti1Image.from_bytes(data)
    assert back.header.extensions == hdr.extensions
    assert back.header.extensions.find("comment")[0].text == "a comment"
    assert back.dataobj.offset == 352 + hdr.extensions.get_sizeondisk()
    assert back.to_bytes() == data
    assert back.header.endianness == order


def test_nibabel_reads_our_extensions():
    import nibabel as nib
    img = Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    img.header.extensions.append(Nifti1Extension("comment", "from voxelio"))
    nimg = nib.Nifti1Image.from_bytes(img.to_bytes())
    assert nimg.header.extensions[0].get_content() == b"from voxelio"
    out = io.BytesIO(nimg.to_bytes())
    assert Nifti1Image.from_bytes(out.getvalue()).header.extensions[0].text == "from voxelio"
