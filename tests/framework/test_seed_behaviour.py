"""The behaviours the spatialimages documentation promises, on the toy format."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from voxelio import is_proxy
from voxelio.filemaps import FileHolder
from voxelio.header import Header
from voxelio.image import SpatialImage
from voxelio_toy.image import ToyImage


def test_file_map_has_one_holder_per_file_type():
    img = ToyImage(np.zeros((2, 3, 4), "f4"), np.eye(4))
    assert sorted(img.file_map) == ["image"]
    holder = img.file_map["image"]
    assert (holder.filename, holder.fileobj, holder.pos) == (None, None, 0)


def test_bytesio_round_trip_through_file_map_twice():
    data = np.arange(24, dtype="f4").reshape((2, 3, 4))
    file_map = ToyImage.make_file_map()
    file_map["image"].fileobj = io.BytesIO()
    img = ToyImage(data, np.eye(4))
    img.file_map = file_map
    img.to_file_map()
    img2 = ToyImage.from_file_map(file_map)
    assert np.all(img2.get_data() == data)
    img2.to_file_map()
    img3 = ToyImage.from_file_map(file_map)
    assert np.all(img3.get_data() == data)


def test_get_data_fill_caches_the_returned_array(toy_file):
    img = ToyImage.from_filename(toy_file)
    assert is_proxy(img.dataobj)
    assert not img.in_memory
    data = img.get_data()
    assert img.in_memory
    data[0, 0, 0, 0] = 99
    again = img.get_data()
    assert again is data
    assert again[0, 0, 0, 0] == 99


def test_get_data_unchanged_leaves_cache_empty(toy_file):
    img = ToyImage.from_filename(toy_file)
    data = img.get_data(caching="unchanged")
    assert not img.in_memory
    data[0, 0, 0, 0] = 99
    again = img.get_data(caching="unchanged")
    assert again is not data
    assert again[0, 0, 0, 0] == 0


def test_uncache_restores_proxy_values(toy_file):
    img = ToyImage.from_filename(toy_file)
    img.get_data()[:] = 42
    assert np.all(img.get_data() == 42)
    img.uncache()
    assert not img.in_memory
    assert img.get_data()[0, 0, 0, 1] == 1


def test_uncache_has_no_effect_on_array_images(data, affine):
    img = ToyImage(data, affine)
    img.get_data()[0, 0, 0, 0] = 7
    img.uncache()
    assert img.get_data()[0, 0, 0, 0] == 7
    assert img.in_memory


def test_get_fdata_caches_per_dtype(toy_file, data):
    img = ToyImage.from_filename(toy_file)
    f = img.get_fdata()
    assert f.dtype == np.float64 and np.array_equal(f, data)
    assert img.get_fdata() is f
    f32 = img.get_fdata(dtype=np.float32)
    assert f32.dtype == np.float32
    with pytest.raises(ValueError, match="floating point"):
        img.get_fdata(dtype=np.int16)
    with pytest.raises(ValueError, match="caching"):
        img.get_fdata(caching="sometimes")


def test_update_header_doctest():
    img = SpatialImage(np.zeros((2, 3, 4)), np.diag([1.0, 2.0, 3.0, 1.0]))
    assert img.shape == (2, 3, 4)
    img.update_header()
    assert img.header.get_data_shape() == (2, 3, 4)
    assert img.header.get_zooms() == (1.0, 2.0, 3.0)


def test_deprecated_getters_warn(data, affine):
    img = ToyImage(data, affine)
    with pytest.warns(DeprecationWarning):
        assert np.array_equal(img.get_affine(), affine)
    with pytest.warns(DeprecationWarning):
        assert img.get_header() is img.header
    with pytest.warns(DeprecationWarning):
        assert img.get_shape() == data.shape


def test_indexing_an_image_says_what_to_use(data, affine):
    img = ToyImage(data, affine)
    with pytest.raises(TypeError, match=r"slicer\[") as info:
        img[0]
    assert "dataobj" in str(info.value) and "get_fdata()" in str(info.value)
    assert str(info.value).startswith("a ToyImage cannot be indexed: use img.slicer[...]")


def test_filename_round_trip_and_characteristic_name(tmp_path, data, affine):
    img = ToyImage(data, affine)
    path = tmp_path / "x.toy.gz"
    img.to_filename(path)
    assert img.get_filename() == str(path)
    loaded = ToyImage.load(path)
    assert loaded.get_filename() == str(path)
    assert np.array_equal(loaded.get_fdata(), data)
    img.set_filename(str(tmp_path / "y.toy"))
    assert img.file_map["image"].filename.endswith("y.toy")


def test_instance_to_filename_converts(tmp_path, data, affine):
    other = SpatialImage(data.astype("f4"), affine)
    ToyImage.instance_to_filename(other, tmp_path / "c.toy")
    back = ToyImage.from_filename(tmp_path / "c.toy")
    assert back.get_data_dtype() == np.float32
    assert np.allclose(back.affine, affine)


def test_from_image_keeps_data_affine_extra(data, affine):
    src = SpatialImage(data, affine, extra={"note": "hi"})
    img = ToyImage.from_image(src)
    assert isinstance(img, ToyImage)
    assert img.extra == {"note": "hi"} and img.extra is not src.extra
    assert img.get_data_dtype() == np.int16


def test_from_image_refuses_unstorable_dtype_with_advice(affine):
    src = SpatialImage(np.zeros((2, 2, 2), np.float16), affine)
    with pytest.raises(Exception, match="dtype=") as info:
        ToyImage.from_image(src)
    assert "float16" in str(info.value)
    converted = ToyImage.from_image(src, dtype="float32")
    assert converted.get_data_dtype() == np.float32


def test_to_bytes_from_bytes(data, affine):
    img = ToyImage(data, affine)
    raw = img.to_bytes()
    back = ToyImage.from_bytes(raw)
    assert np.array_equal(back.get_fdata(), data)
    assert np.allclose(back.affine, affine)


def test_header_template_protocol():
    hdr = Header(np.int16, (2, 3), (1.5, 2.5))
    assert hdr.get_data_dtype() == np.int16
    assert hdr.get_data_shape() == (2, 3)
    assert hdr.get_zooms() == (1.5, 2.5)
    copy = hdr.copy()
    assert copy == hdr and copy is not hdr
    copy.set_zooms((1.0, 1.0))
    assert copy != hdr
    hdr.set_data_shape((2, 3, 4))
    assert hdr.get_zooms() == (1.5, 2.5, 1.0)
    assert Header.from_header(hdr) == hdr


def test_array_image_is_in_memory_and_not_proxy(data, affine):
    img = SpatialImage(data, affine)
    assert img.in_memory and not is_proxy(img.dataobj)
    assert img.get_fdata().dtype == np.float64


def test_affine_none_is_kept(data):
    img = SpatialImage(data, None)
    assert img.affine is None
    with pytest.raises(ValueError, match="4x4"):
        SpatialImage(data, np.eye(3))


def test_slicer_adjusts_affine(data, affine):
    img = ToyImage(data, affine)
    sub = img.slicer[1:, ::2, 3:0:-1, 2]
    assert sub.shape == (1, 2, 3)
    assert np.array_equal(sub.get_fdata(), data[1:, ::2, 3:0:-1, 2])
    # voxel (0, 0, 0) of the sub-image is voxel (1, 0, 3) of the original
    assert np.allclose(sub.affine @ [0, 0, 0, 1], affine @ [1, 0, 3, 1])
    assert np.allclose(sub.affine @ [0, 1, 1, 1], affine @ [1, 2, 2, 1])


def test_slicer_refuses_integer_on_spatial_axes(data, affine):
    img = ToyImage(data, affine)
    with pytest.raises(IndexError, match="i:i\\+1"):
        img.slicer[0]
    with pytest.raises(IndexError):
        img.slicer[[0, 1]]


def test_slicer_on_proxy_reads_lazily(toy_file, data):
    img = ToyImage.from_filename(toy_file)
    sub = img.slicer[..., 1:3]
    assert not img.in_memory
    assert np.array_equal(sub.get_fdata(), data[..., 1:3])


def test_get_data_cache_is_what_gets_saved(tmp_path, toy_file):
    img = ToyImage.from_filename(toy_file)
    img.get_data()[:] = 3
    out = tmp_path / "changed.toy"
    img.to_filename(out)
    assert np.all(ToyImage.from_filename(out).get_fdata() == 3)


def test_old_names_still_work_with_warning(tmp_path, data, affine):
    img = ToyImage(data, affine)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img.to_filespec(str(tmp_path / "o.toy"))
        back = ToyImage.from_filespec(str(tmp_path / "o.toy"))
    assert np.array_equal(back.get_fdata(), data)
    assert all(issubclass(w.category, DeprecationWarning) for w in caught) and caught


def test_file_holder_repr_and_same_file():
    a = FileHolder("x.toy")
    assert a.same_file_as(FileHolder("x.toy"))
    assert not a.same_file_as(FileHolder("y.toy"))
    assert "x.toy" in repr(a)


def test_file_object_with_nonzero_pos_round_trips():
    buf = io.BytesIO(b"x" * 10)
    file_map = {"image": FileHolder(fileobj=buf, pos=10)}
    data = np.arange(12, dtype="i2").reshape((3, 4))
    img = ToyImage(data, np.eye(4))
    img.to_file_map(file_map)
    assert buf.getvalue()[:10] == b"x" * 10
    back = ToyImage.from_file_map(file_map)
    assert np.array_equal(back.get_fdata(), data)
