"""What one load of a small file does, counted (issue 14 item 3): no work twice.

Speed itself is measured in benchmarks/; these tests count the steps that
made loading many small files slower than it needs to be.
"""

from __future__ import annotations

import numpy as np
import pytest

import voxelio
from voxelio.structheader import StructHeader


@pytest.fixture
def small_nii_gz(tmp_path):
    arr = np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4)
    path = tmp_path / "small.nii.gz"
    voxelio.save(voxelio.Nifti1Image(arr, np.eye(4)), path)
    voxelio.load(path)  # first-use set-up (discovery, imports) happens here
    return str(path), arr


def test_a_load_checks_the_header_once(small_nii_gz, monkeypatch):
    path, arr = small_nii_gz
    checked = []
    real = StructHeader.check_fix

    def counting(self, *args, **kwargs):
        checked.append(type(self).__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StructHeader, "check_fix", counting)
    img = voxelio.load(path)
    np.testing.assert_array_equal(img.get_fdata(), arr)
    assert checked == ["Nifti1Header"]


def test_the_image_keeps_the_header_it_read_and_copies_one_given(small_nii_gz):
    path, _ = small_nii_gz
    img = voxelio.load(path)
    hdr = img.header
    assert hdr["magic"] == b"n+1"
    # built from a header passed in, an image still holds its own copy
    other = voxelio.Nifti1Image(img.dataobj, img.affine, hdr)
    assert other.header is not hdr
    assert other.header == hdr


def test_a_load_looks_the_file_up_a_few_times_only(small_nii_gz, calls_on):
    path, arr = small_nii_gz
    looked_up = calls_on("stat", path)
    img = voxelio.load(path)
    np.testing.assert_array_equal(img.get_fdata(), arr)
    # the name's own check, the reader handed from detection to the header and
    # on to the data (two takes), and the file checked unchanged around the data
    # read and after the load; was 12
    assert len(looked_up) <= 7


def test_a_load_opens_the_file_once_at_the_system_level(small_nii_gz, calls_on):
    """The descriptor format detection opened serves the header, the data, and the
    check that no save replaced the file during the load (voxelio._settled)."""
    path, arr = small_nii_gz
    opened = calls_on("open", path)
    img = voxelio.load(path)
    np.testing.assert_array_equal(img.get_fdata(), arr)
    assert len(opened) == 1  # was 2: the load-settled check opened it again
