"""NIfTI-1 <-> NIfTI-2 through save, from_image and ``voxelio convert``."""

import os
import subprocess
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import HeaderDataError
from voxelio_nifti1.extensions import Nifti1Extension
from voxelio_nifti1.image import Nifti1Image, Nifti1Pair
from voxelio_nifti2.image import Nifti2Image, Nifti2Pair

AFFINE = np.array([[-2.0, 0.1, 0, 10], [0.2, 3, 0, -21], [0, 0, 4, -32], [0, 0, 0, 1]])


def rich_nifti1(klass=Nifti1Image):
    data = np.linspace(-50, 900, 5 * 4 * 3 * 2).reshape(5, 4, 3, 2)
    img = klass(data, AFFINE, dtype=np.int16)
    hdr = img.header
    hdr.set_qform(np.diag([2.0, 3, 4, 1]), "scanner", strip_shears=True)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_intent("t test", (21.0,), "stat")
    hdr.set_dim_info(freq=0, phase=1, slice=2)
    hdr.set_slice_duration(0.5)
    hdr.set_slice_times([0.0, 1.0, 0.5])
    hdr["descrip"], hdr["cal_min"], hdr["cal_max"], hdr["toffset"] = b"rich", -1.0, 2.0, 3.5
    hdr.extensions.append(Nifti1Extension("comment", "carried over"))
    return img


def same_content(a, b):
    assert a.shape == b.shape and a.get_data_dtype() == b.get_data_dtype()
    assert np.allclose(a.affine, b.affine)
    assert np.array_equal(a.dataobj.get_unscaled(), b.dataobj.get_unscaled())
    assert (a.dataobj.slope, a.dataobj.inter) == (b.dataobj.slope, b.dataobj.inter)
    ha, hb = a.header, b.header
    assert ha.get_xyzt_units() == hb.get_xyzt_units()
    assert ha.get_intent() == hb.get_intent()
    assert ha.get_dim_info() == hb.get_dim_info()
    assert ha.get_slice_times() == hb.get_slice_times()
    assert np.allclose(ha.get_qform(), hb.get_qform(), atol=1e-6)
    assert ha.get_qform(coded=True)[1] == hb.get_qform(coded=True)[1]
    assert ha.get_sform(coded=True)[1] == hb.get_sform(coded=True)[1]
    for name in ("descrip", "cal_min", "cal_max", "toffset"):
        assert ha[name] == hb[name], name
    assert ha.extensions == hb.extensions


@pytest.mark.parametrize(("one", "two"), [(".nii", ".nii.gz"), (".img", ".hdr")])
def test_save_converts_both_ways_keeping_everything(tmp_path, one, two):
    vx.save(rich_nifti1(Nifti1Pair if one == ".img" else Nifti1Image), tmp_path / f"a{one}")
    first = vx.load(tmp_path / f"a{one}")
    target = "nifti2" if one == ".nii" else "nifti2-pair"
    vx.save(first, tmp_path / f"b{two}", format=target)
    second = vx.load(tmp_path / f"b{two}")
    assert second.format_name == target
    same_content(first, second)
    vx.save(second, tmp_path / f"c{one}", format=first.format_name)
    third = vx.load(tmp_path / f"c{one}")
    assert third.format_name == first.format_name
    same_content(first, third)


def test_from_image_both_ways():
    one = rich_nifti1()
    one = Nifti1Image.from_bytes(one.to_bytes())
    two = Nifti2Image.from_image(one)
    assert type(two.header).__name__ == "Nifti2Header"
    two = Nifti2Image.from_bytes(two.to_bytes())
    same_content(one, two)
    back = Nifti1Image.from_bytes(Nifti1Image.from_image(two).to_bytes())
    same_content(one, back)
    assert type(Nifti2Pair.from_image(one).header).__name__ == "Nifti2PairHeader"


def test_a_nifti2_image_saved_by_name_stays_nifti2(tmp_path):
    img = Nifti2Image(np.zeros((2, 3, 4), np.float32), AFFINE)
    vx.save(img, tmp_path / "x.nii")
    assert vx.load(tmp_path / "x.nii").format_name == "nifti2"
    vx.save(vx.load(tmp_path / "x.nii"), tmp_path / "y.nii.gz")
    assert vx.load(tmp_path / "y.nii.gz").format_name == "nifti2"


def test_other_formats_still_save_to_nii_as_nifti1(tmp_path):
    from voxelio_analyze.image import AnalyzeImage

    vx.save(AnalyzeImage(np.zeros((2, 3, 4), np.int16), np.eye(4)), tmp_path / "a.nii")
    assert vx.load(tmp_path / "a.nii").format_name == "nifti1"


@pytest.mark.parametrize("name", ["x.nii", "x.img"])
def test_saving_what_needs_nifti2_as_nifti1_suggests_nifti2(tmp_path, name):
    img = Nifti2Image(np.zeros((40000, 2, 2), np.uint8), np.eye(4))
    target = "nifti1" if name.endswith(".nii") else "nifti1-pair"
    with pytest.raises(HeaderDataError, match="format='nifti2'"):
        vx.save(img, tmp_path / name, format=target)
    assert not (tmp_path / name).exists()
    img.header["slice_end"] = 40000
    small = Nifti2Image(np.zeros((2, 2, 2), np.uint8), np.eye(4), img.header)
    with pytest.raises(HeaderDataError, match="slice_end"):
        vx.save(small, tmp_path / name, format=target)


def voxelio(*args):
    exe = os.path.join(os.path.dirname(sys.executable), "voxelio")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_convert_both_ways_and_refusal(tmp_path):
    vx.save(rich_nifti1(), tmp_path / "one.nii")
    done = voxelio("convert", str(tmp_path / "one.nii"), str(tmp_path / "two.nii"),
                   "--format", "nifti2")
    assert done.returncode == 0, done.stderr
    two = vx.load(tmp_path / "two.nii")
    assert two.format_name == "nifti2"
    same_content(vx.load(tmp_path / "one.nii"), two)
    done = voxelio("convert", str(tmp_path / "two.nii"), str(tmp_path / "back.nii.gz"),
                   "--format", "nifti1")
    assert done.returncode == 0, done.stderr
    same_content(vx.load(tmp_path / "one.nii"), vx.load(tmp_path / "back.nii.gz"))
    vx.save(Nifti2Image(np.zeros((40000, 1, 2), np.uint8), np.eye(4)), tmp_path / "long.nii")
    done = voxelio("convert", str(tmp_path / "long.nii"), str(tmp_path / "no.nii"),
                   "--format", "nifti1")
    assert done.returncode != 0 and "nifti2" in done.stderr
    assert not (tmp_path / "no.nii").exists()
