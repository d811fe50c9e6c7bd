"""The voxelio conformance kit, run against the Analyze format."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from voxelio.errors import ConversionWarning
from voxelio.testing import FormatConformance


class TestAnalyzeConformance(FormatConformance):
    format_name = "analyze"
    shape = (5, 4, 3, 2)
    # Analyze keeps a translation only as SPM's origin voxel, which readers
    # (NiBabel's and ours) honour only inside (-dims, 2 * dims); the kit's
    # default affine puts world 0 at voxel (5, 7, 8), outside a 5x4x3 volume.
    affine = np.array([[-2.0, 0, 0, 4], [0, 3, 0, -3], [0, 0, 4, -4], [0, 0, 0, 1]])


class _IdentityAffineKit(FormatConformance):
    """The kit with an affine Analyze cannot keep (it stores x flipped)."""

    format_name = "analyze"
    affine = np.eye(4)


def test_the_kit_silences_the_affine_warning_only_for_formats_that_keep_none(tmp_path):
    class KeepsNone(_IdentityAffineKit):
        check_affine = False

    (tmp_path / "none").mkdir()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        KeepsNone().test_round_trip_every_dtype_through_files(tmp_path / "none")
        KeepsNone().test_round_trip_every_dtype_through_bytesio()
    assert not [w for w in seen if issubclass(w.category, ConversionWarning)]

    class ClaimsToKeepIt(_IdentityAffineKit):
        check_affine = True

    (tmp_path / "claims").mkdir()
    kit = ClaimsToKeepIt()
    with (pytest.warns(ConversionWarning, match="AnalyzeImage cannot keep: the full affine"),
          pytest.raises(AssertionError, match="affine")):
        kit.test_round_trip_every_dtype_through_files(tmp_path / "claims")
