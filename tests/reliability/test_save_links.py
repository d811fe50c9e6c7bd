"""Issue 10 item 3 (and 12's read-only folder): links, permissions, owners."""

from __future__ import annotations

import errno
import os
import stat
import tempfile

import numpy as np
import pytest
from reliability_helpers import leftovers, nifti, pair

import voxelio as vx


def _value(path) -> float:
    values = np.unique(vx.load(str(path)).get_fdata())
    assert values.size == 1
    return float(values[0])


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_save_through_a_symlink_writes_its_target(tmp_path, suffix):
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    real = real_folder / f"img{suffix}"
    vx.save(nifti(1.0), str(real))
    link = tmp_path / f"link{suffix}"
    os.symlink(os.path.relpath(real, tmp_path), link)
    vx.save(nifti(2.0), str(link))
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, tmp_path)
    assert _value(real) == 2.0
    assert leftovers(tmp_path) == [] and leftovers(real_folder) == []


def test_save_through_links_to_a_pair(tmp_path):
    vx.save(pair(1.0), str(tmp_path / "real.hdr"))
    os.symlink("real.hdr", tmp_path / "link.hdr")
    os.symlink("real.img", tmp_path / "link.img")
    vx.save(pair(2.0), str(tmp_path / "link.hdr"))
    assert (tmp_path / "link.hdr").is_symlink() and (tmp_path / "link.img").is_symlink()
    assert _value(tmp_path / "real.hdr") == 2.0
    assert leftovers(tmp_path) == []


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.nii"
    os.symlink("made.nii", link)
    vx.save(nifti(3.0), str(link))
    assert link.is_symlink() and _value(tmp_path / "made.nii") == 3.0


def test_mode_owner_and_group_are_kept(tmp_path):
    path = tmp_path / "img.nii"
    vx.save(nifti(1.0), str(path))
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    before = os.stat(path)
    vx.save(nifti(2.0), str(path))
    after = os.stat(path)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert _value(path) == 2.0


@pytest.mark.parametrize("suffix", [".nii", ".hdr"])
def test_read_only_target_is_refused(tmp_path, suffix):
    path = tmp_path / f"img{suffix}"
    vx.save(nifti(1.0) if suffix == ".nii" else pair(1.0), str(path))
    os.chmod(path, 0o444)
    before = path.read_bytes()
    with pytest.raises(PermissionError) as info:
        vx.save(nifti(2.0) if suffix == ".nii" else pair(2.0), str(path))
    assert info.value.errno == errno.EACCES and info.value.filename == str(path)
    assert "read-only" in str(info.value) and "0o444" in str(info.value)
    assert path.read_bytes() == before and _value(path) == 1.0
    assert leftovers(tmp_path) == []


def test_hard_links_stay_shared(tmp_path):
    first = tmp_path / "first.nii"
    second = tmp_path / "second.nii"
    vx.save(nifti(1.0), str(first))
    os.link(first, second)
    vx.save(nifti(2.0, shape=(3, 3, 3)), str(first))
    assert os.path.samefile(first, second) and os.stat(first).st_nlink == 2
    assert _value(second) == 2.0 and vx.load(str(second)).shape == (3, 3, 3)
    assert leftovers(tmp_path) == []


def _system_temps() -> set[str]:
    folder = tempfile.gettempdir()
    return {n for n in os.listdir(folder) if n.endswith(".voxelio-tmp")}


def test_writable_file_in_a_read_only_folder_is_saved_in_place(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "img.nii.gz"
    vx.save(nifti(1.0), str(path))
    inode = os.stat(path).st_ino
    temps_before = _system_temps()
    os.chmod(folder, 0o555)
    try:
        vx.save(nifti(2.0, shape=(2, 2, 2)), str(path))
        assert os.listdir(folder) == ["img.nii.gz"]
    finally:
        os.chmod(folder, 0o755)
    assert os.stat(path).st_ino == inode
    assert _value(path) == 2.0 and vx.load(str(path)).shape == (2, 2, 2)
    assert _system_temps() == temps_before


def test_existing_fifo_target_is_refused_not_replaced(tmp_path):
    path = tmp_path / "img.nii"
    os.mkfifo(path)
    with pytest.raises(vx.ImageFileError, match="not a regular file"):
        vx.save(nifti(1.0), str(path))
    assert stat.S_ISFIFO(os.stat(path).st_mode)
