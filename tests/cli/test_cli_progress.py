"""``voxelio convert IN... --to DIR``: a progress bar on a terminal, none elsewhere or with -q.

The terminal is a real pseudo-terminal (os.openpty) given to the command as
its standard input, output and error.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

import voxelio as vx

#: the test session's broken plugins would add their warnings to stderr
ENV = {**os.environ, "VOXELIO_DISABLE_PLUGINS":
       "voxelio-broken-import,voxelio-broken-sniff,voxelio-invalid-spec"}


@pytest.fixture
def niftis(tmp_path):
    paths = []
    for i in range(4):
        path = tmp_path / f"in{i}.nii"
        vx.save(vx.Nifti1Image(np.full((3, 4, 5), i, np.int16), np.eye(4)), path)
        paths.append(str(path))
    return paths


def on_terminal(*args: str) -> tuple[int, str]:
    """Run ``voxelio ARGS`` with a pseudo-terminal of 100 columns; its status and output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "voxelio", *args], stdin=slave,
                                stdout=slave, stderr=slave, env=ENV, close_fds=True)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every copy of the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_many_files_show_a_progress_bar_on_a_terminal(tmp_path, niftis):
    status, shown = on_terminal("convert", *niftis, "--to", str(tmp_path / "out"),
                                "--format", "mgh")
    assert status == 0, shown
    # the bar counts files and is redrawn in place (carriage returns)
    assert "0/4" in shown and "file/s" in shown and "%|" in shown and "\r" in shown
    # the summary lines are written above the bar, whole
    lines = [line.split("\r")[-1] for line in shown.splitlines()]
    for i, source in enumerate(niftis):
        target = tmp_path / "out" / f"in{i}.mgh"
        assert f"{source} -> {target}: nifti1 -> mgh, int16 -> int16, shape [3, 4, 5]" in lines
        assert np.array_equal(vx.load(target).get_fdata(), np.full((3, 4, 5), i))


def test_quiet_shows_neither_bar_nor_summary_on_a_terminal(tmp_path, niftis):
    status, shown = on_terminal("convert", "-q", *niftis, "--to", str(tmp_path / "out"),
                                "--format", "mgh")
    assert status == 0 and shown == ""
    assert len(list((tmp_path / "out").iterdir())) == 4


def test_no_bar_when_the_output_is_not_a_terminal(tmp_path, niftis):
    done = subprocess.run([sys.executable, "-m", "voxelio", "convert", *niftis, "--to",
                           str(tmp_path / "out"), "--format", "mgh"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0
    assert done.stderr == "" and "\r" not in done.stdout
    assert len(done.stdout.splitlines()) == 4


def test_a_glob_pattern_gets_the_bar_too(tmp_path, niftis):
    status, shown = on_terminal("convert", str(tmp_path / "in*.nii"), "--to",
                                str(tmp_path / "out"), "--format", "analyze")
    assert status == 0, shown
    assert "0/4" in shown and "\r" in shown
    assert len(list((tmp_path / "out").iterdir())) == 8  # .hdr and .img each
