"""The voxelio conformance kit on the LAB format, and what LAB does not keep."""

from __future__ import annotations

import numpy as np
import voxelio as vx
from voxelio.testing import FormatConformance

from voxelio_lab.image import LabImage


class TestLabConformance(FormatConformance):
    format_name = "lab"
    shape = (5, 4, 3, 2)  # LAB has a time axis: test 4-D samples
    affine = np.diag([0.5, 0.5, 2.0, 1.0])  # an affine LAB can store


def test_only_voxel_sizes_are_kept(tmp_path):
    rotated = np.array([[0, -2.0, 0, 10], [3.0, 0, 0, -5], [0, 0, 4.0, 7], [0, 0, 0, 1]])
    vx.save(LabImage(np.zeros((2, 3, 4), np.uint8), rotated), tmp_path / "r.lab")
    back = vx.load(tmp_path / "r.lab")
    assert np.array_equal(back.affine, np.diag([3.0, 2.0, 4.0, 1.0]))
