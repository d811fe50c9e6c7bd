"""The framework's stricter save rules and the conformance kit's matching checks."""

from __future__ import annotations

import io

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import HeaderDataError, WriterError
from voxelio.header import Header
from voxelio.image import SpatialImage
from voxelio.proxy import ArrayProxy
from voxelio.testing import FormatConformance
from voxelio_toy.image import ToyHeader, ToyImage


def test_an_undeclared_dtype_is_refused_naming_the_declared_ones(tmp_path):
    img = ToyImage(np.zeros((2, 3, 4), np.float32), np.eye(4))
    target = tmp_path / "a.toy"
    with pytest.raises(WriterError) as caught:
        vx.save(img, target, dtype="int64")
    message = str(caught.value)
    assert str(target) in message and "does not store int64" in message
    assert "uint8, int16, int32, float32, float64, int8, uint16, complex64" in message
    assert not target.exists()


def test_a_declared_dtype_other_than_the_source_is_saved(tmp_path):
    img = ToyImage(np.arange(24, dtype=np.float64).reshape(2, 3, 4), np.eye(4))
    vx.save(img, tmp_path / "a.toy", dtype="float32")
    assert vx.load(tmp_path / "a.toy").get_data_dtype() == np.float32


class Float32Header(Header):
    """A header that stores float32 data only, as a small format's might."""

    def set_data_dtype(self, dtype):
        if np.dtype(dtype) != np.float32:
            raise HeaderDataError(f"only float32, not {np.dtype(dtype)}")
        super().set_data_dtype(dtype)


class Float32Image(SpatialImage):
    header_class = Float32Header


def test_from_header_leaves_a_dtype_it_cannot_store_at_its_default():
    source = Header(np.float64, (2, 3, 4), (1.0, 2.0, 3.0))
    made = Float32Header.from_header(source)
    assert made.get_data_dtype() == np.float32
    assert made.get_data_shape() == (2, 3, 4) and made.get_zooms() == (1.0, 2.0, 3.0)


def test_from_image_to_a_format_that_stores_float32_with_dtype_float32():
    kept = Float32Header(np.float32, (2, 3, 4)).get_best_affine()  # all the header stores
    source = SpatialImage(np.zeros((2, 3, 4), np.float64), kept)
    converted = Float32Image.from_image(source, dtype="float32")
    assert converted.get_data_dtype() == np.float32
    with pytest.raises(HeaderDataError, match="float64"):
        Float32Image.from_image(source)  # the source dtype, which it cannot store


@pytest.mark.parametrize("scaled", [False, True])
def test_a_0d_proxy_gives_a_0d_array(scaled):
    buffer = io.BytesIO(np.array(7, "<i2").tobytes())
    spec = ((), "<i2", 0, 2.0, 1.0) if scaled else ((), "<i2", 0)
    proxy = ArrayProxy(buffer, spec)
    arr = np.asarray(proxy)
    assert arr.shape == () and arr == (15 if scaled else 7)


# -- the kit finds plugins that break the rules -------------------------------------------
class NegativeShapeHeader(ToyHeader):
    def set_data_shape(self, shape):
        self["dims"][: len(shape)] = shape
        self["ndim"] = len(shape)


class NegativeShapeImage(ToyImage):
    header_class = NegativeShapeHeader


class KitOnToy(FormatConformance):
    format_name = "toy"


def test_the_kit_refuses_a_header_that_accepts_negative_dims():
    kit = KitOnToy()
    kit.image_class = lambda: NegativeShapeImage
    with pytest.raises(pytest.fail.Exception, match="was accepted"):
        kit.test_negative_dims_are_refused()
    kit.image_class = lambda: ToyImage
    kit.test_negative_dims_are_refused()


class RawErrorHeader(ToyHeader):
    def set_data_dtype(self, dtype):
        if np.dtype(dtype) == np.int64:
            raise KeyError(str(np.dtype(dtype)))  # a raw lookup failure, as in the issue
        super().set_data_dtype(dtype)


class RawErrorImage(ToyImage):
    header_class = RawErrorHeader


def test_the_kit_names_a_raw_error_for_undeclared_dtypes(tmp_path):
    kit = KitOnToy()
    kit.image_class = lambda: RawErrorImage
    with pytest.raises(AssertionError, match=r"int64 \(data of that dtype\): KeyError"):
        kit.test_undeclared_dtypes_are_refused_on_save(tmp_path)


def test_an_image_with_a_pending_dtype_alias_saves_through_voxelio_save(tmp_path):
    # 'compat' is resolved from the data when the image writes, not a dtype to check
    small = vx.Nifti1Image(np.arange(8).reshape(2, 2, 2), np.eye(4), dtype="compat")
    vx.save(small, tmp_path / "small.nii")
    back = vx.load(tmp_path / "small.nii")
    assert back.get_data_dtype() == np.uint8
    assert np.array_equal(back.get_fdata(), np.arange(8).reshape(2, 2, 2))
    wide = vx.Nifti1Image(np.arange(8).reshape(2, 2, 2) * 1000, np.eye(4), dtype="compat")
    vx.save(wide, tmp_path / "wide.nii")
    assert vx.load(tmp_path / "wide.nii").get_data_dtype() == np.int16
