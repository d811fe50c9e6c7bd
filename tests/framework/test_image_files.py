"""The read and write steps SpatialImage runs for every format (voxelio.imagefiles)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from voxelio.errors import ImageFileError, WriterError
from voxelio.filemaps import FileHolder
from voxelio.image import SpatialImage
from voxelio.imagefiles import header_file_type
from voxelio_mgh.image import MGHImage
from voxelio_toy.image import ToyImage


def test_the_header_file_is_the_header_else_the_first():
    assert header_file_type((("image", ".img"), ("header", ".hdr"))) == "header"
    assert header_file_type((("image", ".nii"),)) == "image"


def test_a_missing_file_is_an_image_file_error(tmp_path):
    missing = str(tmp_path / "gone.toy")
    with pytest.raises(ImageFileError, match=r"image file '.*gone\.toy' does not exist"):
        ToyImage.from_file_map({"image": FileHolder(missing)})


def test_an_unreadable_file_is_an_image_file_error(tmp_path):
    folder = tmp_path / "folder.toy"
    folder.mkdir()
    with pytest.raises(ImageFileError, match=r"folder\.toy'.*Is a directory"):
        ToyImage.from_file_map({"image": FileHolder(str(folder))})


def test_a_file_map_without_a_file_of_the_format_is_refused(data, affine):
    with pytest.raises(ImageFileError, match="ToyImage file map needs an 'image' entry"):
        ToyImage.from_file_map({"header": FileHolder("x.toy")})
    with pytest.raises(ImageFileError, match="ToyImage file map needs an 'image' entry"):
        ToyImage(data, affine).to_file_map({"other": FileHolder("x.toy")})


def test_writing_points_the_image_at_the_files_written(data, affine):
    img = ToyImage(data, affine)
    target = {"image": FileHolder(fileobj=io.BytesIO())}
    img.to_file_map(target)
    assert img.file_map == target
    target["image"].fileobj.seek(0)
    np.testing.assert_array_equal(np.asarray(ToyImage.from_file_map(target).dataobj), data)


def test_a_plan_that_fails_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "keep.mgh"
    MGHImage(np.zeros((2, 2, 2), np.uint8), np.eye(4)).to_filename(path)
    before = path.read_bytes()
    img = MGHImage(np.full((2, 2, 2), 1000, np.int32), np.eye(4))
    with pytest.raises(WriterError):
        img.to_file_map({"image": FileHolder(str(path))}, dtype=np.uint8)
    assert path.read_bytes() == before
    assert [p for p in os.listdir(tmp_path) if p != "keep.mgh"] == []


def test_mgh_in_a_file_object_at_an_offset(tmp_path):
    """MGH's data offset counts from the holder's pos, like every format's."""
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    path = tmp_path / "a.mgh"
    MGHImage(data, np.eye(4)).to_filename(path)
    stream = io.BytesIO(b"JUNK" * 3 + path.read_bytes())
    img = MGHImage.from_file_map({"image": FileHolder(fileobj=stream, pos=12)})
    np.testing.assert_array_equal(np.asarray(img.dataobj), data)
    assert img.dataobj.offset == 12 + 284


def test_classes_that_do_not_do_files_say_so():
    img = SpatialImage(np.zeros((2, 2, 2)), np.eye(4))
    with pytest.raises(NotImplementedError, match="SpatialImage cannot write files"):
        img.to_file_map({"image": FileHolder(fileobj=io.BytesIO())})
    with pytest.raises(NotImplementedError, match="SpatialImage cannot read files"):
        SpatialImage.from_file_map({"image": FileHolder(fileobj=io.BytesIO())})
