"""NIfTI-2 images: every dtype and file kind, scaling, extensions, huge lazy images."""

import io

import numpy as np
import pytest
from nifti2_samples import ALL_DTYPES, sample_data

import voxelio as vx
from voxelio.errors import HeaderDataError, ImageFileError, VoxelioError
from voxelio_nifti1.extensions import Nifti1Extension
from voxelio_nifti1.image import Int64DataError, Nifti1Image
from voxelio_nifti2.header import Nifti2Header, Nifti2PairHeader
from voxelio_nifti2.image import Nifti2Image, Nifti2Pair

AFFINE = np.array([[-2.0, 0.1, 0, 10], [0.2, 3, 0, -21], [0, 0, 4, -32], [0, 0, 0, 1]])
NAMES = ["x.nii", "x.nii.gz", "x.nii.bz2", "x.nii.zst", "x.img", "x.hdr.gz"]


def make(klass, dtype, order="<", shape=(4, 3, 2)):
    hdr = klass.header_class(endianness=order)
    hdr.set_data_dtype(dtype)
    return klass(sample_data(dtype, shape), AFFINE, hdr)


def check_same(img, back, dtype):
    assert back.shape == img.shape
    assert back.get_data_dtype().newbyteorder("=") == np.dtype(dtype).newbyteorder("=")
    assert np.allclose(back.affine, AFFINE, atol=1e-12)
    assert np.array_equal(np.asarray(back.dataobj), np.asarray(img.dataobj))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("name", NAMES)
def test_every_dtype_both_orders_every_file_kind(tmp_path, dtype, order, name):
    klass = Nifti2Image if ".nii" in name else Nifti2Pair
    img = make(klass, dtype, order)
    img.to_filename(tmp_path / name)
    back = vx.load(tmp_path / name)
    assert type(back) is klass
    assert back.format_name == ("nifti2" if klass is Nifti2Image else "nifti2-pair")
    assert back.header.endianness == order
    check_same(img, back, dtype)


def test_file_layout_single_and_pair(tmp_path):
    img = make(Nifti2Image, np.int16)
    data = img.to_bytes()
    assert data[4:12] == b"n+2\x00\r\n\x1a\n"
    assert data[540:544] == b"\x00\x00\x00\x00" and len(data) == 544 + 24 * 2
    make(Nifti2Pair, np.int16).to_filename(tmp_path / "p.img")
    assert (tmp_path / "p.hdr").stat().st_size == 540
    assert (tmp_path / "p.img").stat().st_size == 24 * 2
    with open(tmp_path / "p.hdr", "rb") as f:
        assert Nifti2PairHeader.from_fileobj(f)["magic"] == b"ni2"


def test_file_objects_at_an_offset():
    img = make(Nifti2Image, np.float64)
    buf = io.BytesIO(b"junk" * 5)
    buf.seek(20)
    img.to_file_map({"image": vx.FileHolder(fileobj=buf, pos=20)})
    back = Nifti2Image.from_file_map({"image": vx.FileHolder(fileobj=buf, pos=20)})
    check_same(img, back, np.float64)


def test_scaling_round_trip_and_no_drift(tmp_path):
    data = np.linspace(-3.3, 1000.7, 60).reshape(3, 4, 5)
    img = Nifti2Image(data, np.eye(4), dtype=np.int16)
    img.to_filename(tmp_path / "s.nii")
    back = vx.load(tmp_path / "s.nii")
    slope, inter = back.dataobj.slope, back.dataobj.inter
    assert slope != 1 and np.allclose(back.get_fdata(), data, atol=slope)
    assert back.dataobj.get_unscaled().dtype == np.int16
    back.to_filename(tmp_path / "s2.nii")
    again = vx.load(tmp_path / "s2.nii")
    assert (again.dataobj.slope, again.dataobj.inter) == (slope, inter)
    assert np.array_equal(again.dataobj.get_unscaled(), back.dataobj.get_unscaled())


@pytest.mark.parametrize("order", ["<", ">"])
def test_extensions_round_trip_byte_exact(order):
    hdr = Nifti2Header(endianness=order)
    hdr.extensions.append(Nifti1Extension("comment", "a comment"))
    hdr.extensions.append(Nifti1Extension(32, "<CIFTI Version='2'/>"))
    hdr.extensions.append(Nifti1Extension(1234, b"\x00\x01binary"))
    img = Nifti2Image(np.arange(6, dtype=np.int16).reshape(1, 2, 3), np.eye(4), hdr)
    data = img.to_bytes()
    back = Nifti2Image.from_bytes(data)
    assert back.header.extensions == hdr.extensions
    assert back.dataobj.offset == 544 + hdr.extensions.get_sizeondisk()
    assert back.to_bytes() == data


def test_units_intent_dim_info_slice_times_survive_a_file():
    img = Nifti2Image(np.zeros((3, 4, 5, 2), np.float32), AFFINE)
    hdr = img.header
    hdr.set_xyzt_units("micron", "usec")
    hdr.set_intent("ConnDenseScalar", name="ConnDenseScalar")
    hdr.set_dim_info(freq=0, phase=1, slice=2)
    hdr.set_slice_duration(0.1)
    hdr.set_slice_times([0.0, 0.3, 0.1, 0.4, 0.2])
    back = Nifti2Image.from_bytes(img.to_bytes()).header
    assert back.get_xyzt_units() == ("micron", "usec")
    assert back.get_intent() == ("ConnDenseScalar", (), "ConnDenseScalar")
    assert back.get_dim_info() == (0, 1, 2)
    assert np.allclose(back.get_slice_times(), [0.0, 0.3, 0.1, 0.4, 0.2])


def test_int64_policy_is_nifti1s():
    data = np.arange(8, dtype=np.int64).reshape(2, 2, 2)
    with pytest.raises(Int64DataError, match="NIfTI-2"):
        Nifti2Image(data, np.eye(4))
    kept = Nifti2Image(data, np.eye(4), dtype=np.int64)
    assert Nifti2Image.from_bytes(kept.to_bytes()).get_data_dtype() == np.int64
    assert Nifti2Image.from_bytes(
        Nifti2Image(data, np.eye(4), dtype="compat").to_bytes()
    ).get_data_dtype() == np.uint8


def test_long_axes_written_and_read(tmp_path):
    data = (np.arange(40000 * 2 * 3) % 251).astype(np.uint8).reshape(40000, 2, 3)
    img = Nifti2Image(data, np.eye(4))
    for name in ("long.nii", "long.nii.gz"):
        vx.save(img, tmp_path / name)
        back = vx.load(tmp_path / name)
        assert back.shape == (40000, 2, 3)
        assert np.array_equal(back.dataobj[39990:, 1, :], data[39990:, 1, :])


def _sparse_nifti2(path, shape, dtype, values):
    """A NIfTI-2 file whose data are a hole but for ``values`` ({index: value})."""
    hdr = Nifti2Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(dtype)
    hdr.set_data_offset(544)
    itemsize = np.dtype(dtype).itemsize
    strides = np.cumprod((1, *shape[:-1])) * itemsize  # Fortran order
    with open(path, "wb") as f:
        hdr.write_to(f)
        for index, value in values.items():
            f.seek(544 + int(np.dot(index, strides)))
            f.write(np.array(value, dtype).tobytes())
        f.truncate(544 + int(np.prod(shape, dtype=object)) * itemsize)


def test_image_of_more_than_2_31_voxels_is_read_lazily(tmp_path):
    # 65537 * 32769 voxels > 2**31, in a sparse file: nothing is allocated
    shape = (65537, 32769, 1)
    corner = (65536, 32768, 0)
    path = tmp_path / "huge.nii"
    _sparse_nifti2(path, shape, np.int16, {corner: 1234, (0, 0, 0): -7, (40000, 3, 0): 5})
    img = vx.load(path)
    assert img.format_name == "nifti2" and img.shape == shape
    assert int(np.prod(shape, dtype=object)) > 2**31
    assert isinstance(img.dataobj.get_unscaled(), np.memmap)
    assert img.dataobj[corner] == 1234 and img.dataobj[0, 0, 0] == -7
    assert np.array_equal(img.dataobj[39999:40002, 3, 0], [0, 5, 0])
    assert img.dataobj[-3:, -1, 0].tolist() == [0, 0, 1234]


def test_pair_with_long_axes_is_read_lazily(tmp_path):
    shape = (3, 100000, 2)
    hdr = Nifti2PairHeader()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(np.float32)
    (tmp_path / "big.hdr").write_bytes(hdr.binaryblock)
    with open(tmp_path / "big.img", "wb") as f:
        f.seek((2 + 3 * 99999 + 3 * 100000) * 4)
        f.write(np.float32(2.5).tobytes())
    img = vx.load(tmp_path / "big.hdr")
    assert img.shape == shape and img.dataobj[2, 99999, 1] == 2.5


def test_a_nifti1_file_given_to_nifti2image_names_nifti1(tmp_path):
    Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4)).to_filename(tmp_path / "one.nii")
    with pytest.raises(ImageFileError, match="NIfTI-1 file"):
        Nifti2Image.from_filename(tmp_path / "one.nii")
    assert vx.load(tmp_path / "one.nii").format_name == "nifti1"


@pytest.mark.parametrize("cut", [0, 100, 539, 543, 560])
def test_truncated_files_raise_voxelio_errors(tmp_path, cut):
    path = tmp_path / "t.nii"
    path.write_bytes(make(Nifti2Image, np.float32).to_bytes()[:cut])
    with pytest.raises(VoxelioError):
        vx.load(path).get_fdata()


def test_hostile_dims_do_not_allocate(tmp_path):
    hdr = Nifti2Header()
    hdr.set_data_shape((2**20, 2**20, 2**20))
    path = tmp_path / "h.nii"
    path.write_bytes(hdr.binaryblock + b"\x00" * 100)
    with pytest.raises(ImageFileError, match="truncated"):
        vx.load(path)


def test_unsupported_dtypes_refused_clearly():
    with pytest.raises(HeaderDataError, match="supported"):
        Nifti2Image(np.zeros((2, 2, 2), bool), np.eye(4))
