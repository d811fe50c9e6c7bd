"""Issue 10 item 5: FIFOs and other non-regular files are refused, never opened."""

from __future__ import annotations

import os

import numpy as np
import pytest
from reliability_helpers import fifo_watchdog, nifti, pair

import voxelio as vx
from voxelio.proxy import ArrayProxy


def _refused(call, fifo_path: str) -> vx.ImageFileError:
    with fifo_watchdog(fifo_path) as fired, pytest.raises(vx.ImageFileError) as info:
        call()
    assert not fired.is_set(), "the call blocked on the FIFO"
    return info.value


def test_load_of_a_fifo_named_nii_is_refused(tmp_path):
    path = str(tmp_path / "stream.nii")
    os.mkfifo(path)
    err = _refused(lambda: vx.load(path), path)
    assert "FIFO" in str(err) and "stream.nii" in str(err)


def test_from_filename_of_a_fifo_is_refused(tmp_path):
    path = str(tmp_path / "stream.nii")
    os.mkfifo(path)
    err = _refused(lambda: vx.Nifti1Image.from_filename(path), path)
    assert "not a regular file" in str(err)


def test_load_with_format_given_refuses_a_fifo(tmp_path):
    path = str(tmp_path / "stream.nii.gz")
    os.mkfifo(path)
    err = _refused(lambda: vx.load(path, format="nifti1"), path)
    assert "FIFO" in str(err)


@pytest.mark.parametrize("klass", ["Nifti1Pair", "AnalyzeImage"])
def test_pair_whose_image_file_is_a_fifo_is_refused_at_load(tmp_path, klass):
    hdr = str(tmp_path / "pair.hdr")
    img_path = str(tmp_path / "pair.img")
    image = pair(3.0) if klass == "Nifti1Pair" else vx.AnalyzeImage(
        np.ones((2, 3, 4), np.float32), np.diag([-1.0, 1, 1, 1]))  # x flipped: Analyze keeps it
    vx.save(image, hdr)
    os.unlink(img_path)
    os.mkfifo(img_path)
    err = _refused(lambda: getattr(vx, klass).from_filename(hdr), img_path)
    assert "pair.img" in str(err)
    _refused(lambda: vx.load(hdr), img_path)


def test_pair_whose_header_is_a_fifo_is_refused(tmp_path):
    hdr = str(tmp_path / "pair.hdr")
    vx.save(pair(1.0), hdr)
    os.unlink(hdr)
    os.mkfifo(hdr)
    _refused(lambda: vx.Nifti1Pair.from_filename(hdr), hdr)


def test_proxy_on_a_fifo_is_refused(tmp_path):
    path = str(tmp_path / "data.raw")
    os.mkfifo(path)
    _refused(lambda: ArrayProxy(path, ((2, 2), np.uint8)), path)


def test_fifo_swapped_in_after_load_is_refused_on_read(tmp_path):
    path = str(tmp_path / "pair.hdr")
    vx.save(pair(2.0), path)
    img = vx.load(path, mmap=False)
    img_path = str(tmp_path / "pair.img")
    os.unlink(img_path)
    os.mkfifo(img_path)
    _refused(lambda: img.dataobj[0, 0, 0], img_path)


def test_sniff_of_a_fifo_is_refused(tmp_path, fifo):
    assert "FIFO" in str(_refused(lambda: vx.sniff(fifo), fifo))


def test_regular_files_still_load(tmp_path):
    path = str(tmp_path / "ok.nii")
    vx.save(nifti(5.0), path)
    assert float(vx.load(path).dataobj[0, 0, 0]) == 5.0
