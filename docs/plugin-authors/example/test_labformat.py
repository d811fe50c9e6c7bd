"""The conformance kit on the one-module LAB plugin: ``pytest test_labformat.py``."""

import numpy as np
import voxelio as vx
from voxelio.testing import FormatConformance

import labformat

# in this test session only; the kit then finds the format by its name
vx.register_format(labformat.LAB)


class TestLabConformance(FormatConformance):
    format_name = "lab"
    # LAB keeps voxel sizes only: sample images get an affine it can store
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
