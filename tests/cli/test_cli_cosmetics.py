"""CLI output that reads the same for every format: dtype names, file names once,
kept compression, advice in the command line's words."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import WriterError

DATA = np.arange(24, dtype=np.int16).reshape(2, 3, 4)


def voxelio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voxelio", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def int16_files(tmp_path):
    """The same int16 volume as NIfTI (little-endian) and MGH (big-endian)."""
    nii, mgz = tmp_path / "a.nii", tmp_path / "a.mgz"
    vx.save(vx.Nifti1Image(DATA, np.diag([2.0, 3, 4, 1])), nii)
    vx.save(vx.MGHImage(DATA, np.diag([2.0, 3, 4, 1])), mgz)
    return str(nii), str(mgz)


def test_info_names_dtypes_alike_for_every_format_and_byte_order_with_v(int16_files):
    nii, mgz = int16_files
    done = voxelio("info", nii, mgz)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[1:3] == ["nifti1", "int16"]
    assert lines[1].split()[1:3] == ["mgh", "int16"]
    verbose = voxelio("info", "-v", mgz).stdout
    assert "    stored as int16, big-endian" in verbose.splitlines()
    little = "little" if sys.byteorder == "little" else "big"  # NIfTI is written native
    assert f"    stored as int16, {little}-endian" in voxelio("info", "-v", nii).stdout


def test_convert_summary_names_dtypes_alike(int16_files, tmp_path):
    nii, mgz = int16_files
    done = voxelio("convert", mgz, str(tmp_path / "b.nii"))
    assert done.stdout.strip().endswith(": mgh -> nifti1, int16 -> int16, shape [2, 3, 4]")
    floats = voxelio("convert", nii, str(tmp_path / "f.mgz"), "--dtype", "float32")
    assert floats.stdout.strip().endswith(": nifti1 -> mgh, int16 -> float32, shape [2, 3, 4]")


@pytest.mark.parametrize("command", ["info", "check", "sniff"])
def test_a_missing_file_is_named_once(tmp_path, command):
    missing = str(tmp_path / "missing.nii")
    done = voxelio(command, missing)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"voxelio: {missing}: no such file"


@pytest.mark.parametrize(("source", "fmt", "target"), [
    ("s.nii.gz", "nifti1", "s.nii.gz"),
    ("s.nii.gz", "mgh", "s.mgz"),
    ("s.mgz", "nifti1", "s.nii.gz"),
    ("s.mgh", "nifti1", "s.nii"),
    ("s.nii", "mgh", "s.mgh"),
    ("s.nii.bz2", "nifti2", "s.nii.bz2"),
    ("s.nii.bz2", "mgh", "s.mgh"),  # MGH has no bzip2 form: plain
    ("s.hdr.gz", "analyze", "s.img.gz"),
])
def test_convert_to_a_folder_keeps_the_compression_the_input_had(tmp_path, source, fmt,
                                                                 target):
    vx.save(vx.Nifti1Image(DATA, np.diag([-2.0, 3, 4, 1])), tmp_path / source)
    done = voxelio("convert", str(tmp_path / source), "--to", str(tmp_path / "out"),
                   "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert f" -> {tmp_path / 'out' / target}: " in done.stdout
    assert np.array_equal(vx.load(tmp_path / "out" / target).get_fdata(), DATA)


def test_convert_help_says_what_happens_to_compression():
    text = " ".join(voxelio("convert", "--help").stdout.split())
    assert "IN's compression is kept where the format allows it" in text


def test_advice_to_choose_a_dtype_is_in_the_callers_words(tmp_path):
    scaled = vx.Nifti1Image(DATA, np.eye(4))
    scaled.header.set_slope_inter(0.5, 10)
    vx.save(scaled, tmp_path / "s.nii")
    done = voxelio("convert", str(tmp_path / "s.nii"), str(tmp_path / "s.mgz"))
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("choose a floating-point dtype (e.g. --dtype float32)")
    assert "save(" not in done.stderr
    with pytest.raises(WriterError, match=r"\(e\.g\. save\(\.\.\., dtype='float32'\)\)$"):
        vx.save(vx.load(tmp_path / "s.nii"), tmp_path / "s.mgz")
    wide = tmp_path / "f64.nii"
    vx.save(vx.Nifti1Image(DATA.astype(np.float64), np.eye(4)), wide)
    refused = voxelio("convert", str(wide), str(tmp_path / "f64.mgz"))
    assert refused.stderr.rstrip().endswith(
        "it stores float32, int16, int32, uint16, uint8. Choose one: --dtype ...")


@pytest.mark.parametrize("klass", ["AnalyzeImage", "Nifti1Pair", "Nifti2Pair"])
def test_info_v_on_a_header_without_its_image_file_shows_what_a_load_would(tmp_path, klass):
    hdr, img = tmp_path / "p.hdr", tmp_path / "p.img"
    vx.save(getattr(vx, klass)(DATA, np.diag([-2.0, 3, 4, 1])), hdr)
    whole = voxelio("info", "-v", str(hdr)).stdout.splitlines()
    img.unlink()
    done = voxelio("info", "-v", str(hdr))
    assert done.returncode == 0, done.stderr
    alone = done.stdout.splitlines()
    assert alone[0].endswith(f"(header only: {img} does not exist)")
    # class, stored type, affine and files as with the data file there; the header
    # fields follow (as stored: a load moves the scaling to the image's proxy)
    marked = {f"    image file {img}": f"    image file {img} (does not exist)"}
    fields = whole.index("    header fields")
    assert alone[1:fields] == [marked.get(line, line) for line in whole[1:fields]]
    assert alone[fields] == "    header fields" and len(alone) == len(whole)
    assert any(line.startswith("    class ") for line in alone) and "    affine" in alone
