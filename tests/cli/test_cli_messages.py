"""CLI messages: sniff's exit status, --debug placement, many-file convert, known formats."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError


def voxelio(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voxelio", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.fixture
def niftis(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"a{i}.nii"
        vx.save(vx.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4) + i,
                               np.diag([2.0, 3.0, 4.0, 1.0])), path)
        paths.append(str(path))
    return paths


def test_sniff_exits_1_when_no_format_accepts(tmp_path, niftis):
    junk = tmp_path / "x.dat"
    junk.write_bytes(b"NRRD0004\ntype: short\n")
    done = voxelio("sniff", str(junk))
    assert done.returncode == 1
    assert "no format accepts this file" in done.stdout
    assert "hint: this looks like NRRD; no installed plugin reads NRRD" in done.stdout
    assert voxelio("sniff", niftis[0]).returncode == 0


def test_debug_is_accepted_after_the_subcommand(tmp_path):
    missing = str(tmp_path / "missing.nii")
    after = voxelio("info", missing, "--debug")
    before = voxelio("--debug", "info", missing)
    for done in (after, before):
        assert done.returncode == 1
        assert "Traceback" in done.stderr  # --debug shows the traceback
    assert "Traceback" not in voxelio("info", missing).stderr


def test_convert_many_files_into_a_folder_with_a_summary_line_each(tmp_path, niftis):
    out = tmp_path / "out"
    # a pattern the shell did not expand, plus a name it also matches (converted once)
    done = voxelio("convert", niftis[0], str(tmp_path / "a*.nii"), "--to", str(out),
                   "--format", "mgh")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == (f"{niftis[0]} -> {out / 'a0.mgh'}: nifti1 -> mgh, int16 -> int16, "
                        "shape [2, 3, 4]")
    assert sorted(p.name for p in out.iterdir()) == ["a0.mgh", "a1.mgh", "a2.mgh"]
    assert np.array_equal(vx.load(out / "a2.mgh").get_fdata(), vx.load(niftis[2]).get_fdata())
    quiet = voxelio("convert", "-q", *niftis, "--to", str(tmp_path / "q"), "--format", "analyze")
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert len(list((tmp_path / "q").iterdir())) == 6  # three .hdr/.img pairs


def test_convert_summary_says_what_was_not_kept(tmp_path, niftis):
    done = voxelio("convert", niftis[0], str(tmp_path / "b.mgz"), "--dtype", "float32")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("int16 -> float32, shape [2, 3, 4]")
    rotated = vx.Nifti1Image(np.zeros((2, 3, 4), np.float32),
                             np.array([[0, -2.0, 0, 1], [3, 0, 0, 2], [0, 0, 4, 3], [0, 0, 0, 1]]))
    vx.save(rotated, tmp_path / "r.nii")
    analyze = voxelio("convert", str(tmp_path / "r.nii"), str(tmp_path / "r.hdr"),
                      "--format", "analyze")
    assert analyze.returncode == 0, analyze.stderr
    assert analyze.stdout.strip().endswith("; not kept: the full affine (voxel sizes kept)")
    assert "cannot keep" not in analyze.stderr  # the summary says it; no warning besides


def test_convert_usage_errors(tmp_path, niftis):
    three = voxelio("convert", *niftis)
    assert three.returncode == 1 and "convert takes IN OUT, or IN... --to DIR" in three.stderr
    nothing = voxelio("convert", str(tmp_path / "none*.nii"), "--to", str(tmp_path / "o"))
    assert nothing.returncode == 1 and "no file matches" in nothing.stderr


def nifti2_header(intent: int = 0) -> bytes:
    header = bytearray(540)
    header[0:4] = struct.pack("<i", 540)
    header[344:352] = b"n+2\x00\r\n\x1a\n"
    header[504:508] = struct.pack("<i", intent)
    return bytes(header)


@pytest.mark.parametrize(("payload", "label"), [
    (b"\x89HDF\r\n\x1a\n" + bytes(600), "MINC-2 (HDF5); no installed plugin reads MINC-2"),
    (b"CDF\x01" + bytes(600), "MINC-1 (NetCDF); no installed plugin reads MINC-1"),
    (b"CDF\x02" + bytes(600), "MINC-1 (NetCDF); no installed plugin reads MINC-1"),
    (b"NRRD0005\nspace: left\n", "NRRD; no installed plugin reads NRRD"),
    (bytes(128) + b"DICM" + bytes(400), "DICOM; no installed plugin reads DICOM"),
    (nifti2_header(3006), "CIFTI-2 (a NIfTI-2 file with a CIFTI extension); no installed"),
])
def test_known_formats_no_plugin_reads_are_named(tmp_path, payload, label):
    path = tmp_path / "scan.bin"
    path.write_bytes(payload)
    with pytest.raises(ImageFileError) as caught:
        vx.load(path)
    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"cannot read {str(path)!r}: this looks like ")
    assert f"this looks like {label}" in first
    # through gzip too
    gz = tmp_path / "scan.bin.gz"
    gz.write_bytes(gzip.compress(payload))
    with pytest.raises(ImageFileError, match="this looks like"):
        vx.load(gz)


def test_nifti2_is_named_only_when_its_plugin_is_missing(tmp_path):
    path = tmp_path / "broken.nii"
    path.write_bytes(nifti2_header()[:400])  # truncated: the installed plugin fails
    with pytest.raises(ImageFileError) as caught:
        vx.load(path)
    assert "this looks like" not in str(caught.value)
    code = (f"import voxelio as vx\ntry:\n    vx.load({str(path)!r})\n"
            "except vx.ImageFileError as e:\n    print(str(e).splitlines()[0])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ,
                                            "VOXELIO_DISABLE_PLUGINS": "voxelio-nifti2"})
    assert ("this looks like NIfTI-2; no installed plugin reads NIfTI-2 "
            "(pip install voxelio-nifti2)") in done.stdout, done.stdout + done.stderr


def test_an_unknown_save_option_names_the_target_and_the_valid_options(tmp_path, niftis):
    img = vx.load(niftis[0])
    target = tmp_path / "z.nii.gz"
    with pytest.raises(TypeError) as caught:
        vx.save(img, target, progress=True)
    assert str(caught.value) == (f"cannot save {target}: unknown save option 'progress'; "
                                 "valid options: dtype, compresslevel, gzip_blocks")
    assert not target.exists()
    vx.save(img, target, compresslevel=1)  # a valid option still works
    assert vx.load(target).shape == (2, 3, 4)


def test_a_dtype_error_lists_the_stored_dtypes_once_and_advises_only_without_dtype(
        tmp_path, niftis):
    chosen = voxelio("convert", niftis[0], str(tmp_path / "z.mgh"), "--dtype", "int64")
    assert chosen.returncode == 1
    assert (f"WriterError: cannot save {tmp_path / 'z.mgh'} as mgh: it does not store int64; "
            "it stores uint8, int32, float32, int16, uint16") in chosen.stderr
    assert "--dtype" not in chosen.stderr and chosen.stderr.count("uint16") == 1
    img = vx.Nifti1Image(np.zeros((2, 2, 2), np.float64), np.eye(4))
    with pytest.raises(vx.HeaderDataError) as caught:
        vx.save(img, tmp_path / "f.mgh")
    assert str(caught.value).count("uint16") == 1
    assert "Choose one: voxelio.save(img, path, dtype=...)" in str(caught.value)


def test_info_on_a_known_format_says_what_it_looks_like(tmp_path):
    path = tmp_path / "brain.mnc"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(600))
    done = voxelio("info", str(path))
    assert done.returncode == 1
    # the line names the file once
    assert (f"voxelio: {path}: ImageFileError: this looks like "
            "MINC-2 (HDF5); no installed plugin reads MINC-2") in done.stderr
    assert "NIfTI" not in done.stderr.split("formats that declined")[0]


def test_a_pair_without_its_image_file_is_named_once_with_the_claiming_format(tmp_path):
    header = tmp_path / "p.hdr"
    vx.save(vx.Nifti1Pair(np.zeros((2, 2, 2), np.int16), np.eye(4)), header)
    (tmp_path / "p.img").unlink()
    done = voxelio("convert", str(header), str(tmp_path / "out.nii"))
    assert done.returncode == 1
    first = next(line for line in done.stderr.splitlines() if "ImageFileError" in line)
    assert first.startswith(f"voxelio: {header}: ImageFileError: cannot read as nifti1-pair: ")
    assert first.count("p.hdr") == 1 and "p.img' does not exist" in first
    assert not (tmp_path / "out.nii").exists()


def test_a_nifti2_pair_header_is_named_when_its_plugin_is_missing(tmp_path):
    header = bytearray(nifti2_header())
    header[344:348] = b"ni2\x00"
    path = tmp_path / "pair.hdr"
    path.write_bytes(bytes(header))
    done = subprocess.run([sys.executable, "-m", "voxelio", "sniff", str(path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "VOXELIO_DISABLE_PLUGINS": "voxelio-nifti2"})
    assert done.returncode == 1
    assert ("hint: this looks like NIfTI-2; no installed plugin reads NIfTI-2 "
            "(pip install voxelio-nifti2)") in done.stdout


def test_info_verbose_shows_header_fields_with_the_meaning_of_codes(niftis):
    done = voxelio("info", "-v", niftis[0])
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert "    header fields" in lines
    assert "      dim              [3, 2, 3, 4, 1, 1, 1, 1]" in lines
    assert "      datatype         4 (int16)" in lines
    assert "      pixdim           [1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 1.0, 1.0]" in lines
