"""``~`` in file names means the home folder, for load, save and the image methods."""

from __future__ import annotations

import numpy as np

import voxelio as vx
from voxelio_toy.image import ToyImage


def test_load_and_save_expand_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    vx.save(ToyImage(data, np.eye(4)), "~/saved.toy")
    assert (tmp_path / "saved.toy").exists()
    assert not (tmp_path / "~").exists()
    img = vx.load("~/saved.toy")
    assert np.array_equal(np.asarray(img.dataobj), data)
    assert img.get_filename() == str(tmp_path / "saved.toy")
    img.to_filename("~/again.toy")
    assert (tmp_path / "again.toy").exists()
    again = ToyImage.from_filename("~/again.toy")
    assert np.array_equal(np.asarray(again.dataobj), data)
