"""The voxelio conformance kit, run against the Analyze format."""

from __future__ import annotations

import numpy as np

from voxelio.testing import FormatConformance


class TestAnalyzeConformance(FormatConformance):
    format_name = "analyze"
    shape = (5, 4, 3, 2)
    # Analyze keeps a translation only as SPM's origin voxel, which readers
    # (NiBabel's and ours) honour only inside (-dims, 2 * dims); the kit's
    # default affine puts world 0 at voxel (5, 7, 8), outside a 5x4x3 volume.
    affine = np.array([[-2.0, 0, 0, 4], [0, 3, 0, -3], [0, 0, 4, -4], [0, 0, 0, 1]])
