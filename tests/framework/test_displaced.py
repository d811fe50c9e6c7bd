"""The file a save displaces is freed by a background thread, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import voxelio as vx
from voxelio import _displaced

pytestmark = pytest.mark.skipif(
    not hasattr(os, "O_PATH"), reason="displaced files are held with O_PATH (Linux)"
)


def _image(value: float) -> vx.Nifti1Image:
    return vx.Nifti1Image(np.full((4, 5, 6), value, np.float32), np.eye(4))


def _descriptors_of(st: os.stat_result) -> list[int]:
    """This process's open descriptors on the file ``st`` describes."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            other = os.fstat(int(name))
        except OSError:
            continue  # the descriptor listdir itself used
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            found.append(int(name))
    return found


@pytest.fixture(autouse=True)
def _nothing_held_before_or_after():
    _displaced.wait_until_freed()
    yield
    _displaced.wait_until_freed()
    assert _displaced.held_count() == 0


def test_the_old_file_outlives_the_save_and_is_freed_after_it(tmp_path):
    target = str(tmp_path / "img.nii.gz")
    vx.save(_image(1.0), target)
    old = os.stat(target)
    with _displaced.paused():
        vx.save(_image(2.0), target)
        # the save returned with the new file in place, the old one unlinked
        # but still open: nothing freed it on the caller's thread
        assert np.all(vx.load(target).get_fdata() == 2.0)
        [fd] = _descriptors_of(old)
        assert os.fstat(fd).st_nlink == 0
        assert _displaced.held_count() == 1
    _displaced.wait_until_freed()
    assert _descriptors_of(old) == []
    assert sorted(os.listdir(tmp_path)) == ["img.nii.gz"]


def test_a_new_file_holds_nothing(tmp_path):
    with _displaced.paused():
        vx.save(_image(1.0), str(tmp_path / "new.nii"))
        assert _displaced.held_count() == 0


def test_a_failed_rename_lets_the_old_file_go(tmp_path, monkeypatch):
    target = str(tmp_path / "img.nii")
    vx.save(_image(1.0), target)
    old = os.stat(target)
    before = open(target, "rb").read()  # noqa: SIM115 (read at once)

    def refuse(src, dst, **kwargs):
        raise PermissionError(1, "Operation not permitted", dst)

    # a rename failing after the old file was held (an immutable target, an I/O
    # error) cannot be provoked reliably without privileges
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError, match="img.nii"):
        vx.save(_image(2.0), target)
    monkeypatch.undo()
    _displaced.wait_until_freed()
    assert _descriptors_of(old) == []
    assert open(target, "rb").read() == before  # noqa: SIM115
    assert sorted(os.listdir(tmp_path)) == ["img.nii"]


def test_saves_in_a_loop_hold_a_bounded_number_of_old_files(tmp_path):
    target = str(tmp_path / "img.nii")
    vx.save(_image(0.0), target)
    olds = []
    with _displaced.paused():
        for value in range(1, _displaced.MAX_HELD + 4):
            olds.append(os.stat(target))
            vx.save(_image(float(value)), target)
        assert _displaced.held_count() == _displaced.MAX_HELD
        held = [st for st in olds if _descriptors_of(st)]
        # the first ones wait for the thread; later saves freed theirs themselves
        assert held == olds[: _displaced.MAX_HELD]
    _displaced.wait_until_freed()
    assert not any(_descriptors_of(st) for st in olds)


def test_a_pair_save_frees_both_old_files_after_it(tmp_path):
    target = str(tmp_path / "img.img")
    vx.save(vx.Nifti1Pair(np.ones((4, 5, 6), np.float32), np.eye(4)), target)
    olds = [os.stat(tmp_path / "img.hdr"), os.stat(target)]
    with _displaced.paused():
        vx.save(vx.Nifti1Pair(np.zeros((4, 5, 6), np.float32), np.eye(4)), target)
        assert sorted(os.listdir(tmp_path)) == ["img.hdr", "img.img"]  # no backups
        assert all(len(_descriptors_of(st)) == 1 for st in olds)
    _displaced.wait_until_freed()
    assert not any(_descriptors_of(st) for st in olds)
    assert np.all(vx.load(target).get_fdata() == 0)


def test_a_forked_child_closes_what_it_inherited(tmp_path):
    target = str(tmp_path / "img.nii")
    vx.save(_image(1.0), target)
    old = os.stat(target)
    with _displaced.paused():
        vx.save(_image(2.0), target)
        pid = os.fork()
        if pid == 0:  # the child: report, never return into pytest
            os._exit(0 if not _descriptors_of(old) and _displaced.held_count() == 0 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert len(_descriptors_of(old)) == 1  # the parent's own is still waiting


_KILLED_WHILE_HOLDING = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import voxelio as vx
    from voxelio import _displaced
    img = vx.Nifti1Image(np.ones((4, 5, 6), np.float32), np.eye(4))
    vx.save(img, sys.argv[1])
    with _displaced.paused():
        vx.save(img, sys.argv[1])
        assert _displaced.held_count() == 1
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_process_killed_while_holding_leaves_only_the_new_file(tmp_path):
    target = str(tmp_path / "img.nii")
    run = subprocess.run([sys.executable, "-c", _KILLED_WHILE_HOLDING, target],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert sorted(os.listdir(tmp_path)) == ["img.nii"]
    assert np.all(vx.load(target).get_fdata() == 1.0)
