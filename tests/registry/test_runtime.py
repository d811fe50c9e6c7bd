"""register_format / unregister_format in-process, save's writer choice, refresh."""

from __future__ import annotations

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError, VoxelioError
from voxelio.registry import InvalidSpecError, store


@pytest.fixture
def runtime_cleanup():
    """Forget runtime formats made by the test (the plugin registry stays)."""
    before = set(store.get_registry().runtime_formats())
    yield
    for name in set(store.get_registry().runtime_formats()) - before:
        vx.unregister_format(name)


def toy_image(dtype=np.int16):
    return vx.ToyImage(np.arange(24, dtype=dtype).reshape(2, 3, 4), np.diag([2, 3, 4, 1]))


def test_class_decorator_builds_a_spec_from_attributes(runtime_cleanup, tmp_path):
    @vx.register_format
    class LabImage(vx.ToyImage):
        """Our lab's toy variant."""

        format_name = "lab-toy"
        files_types = (("image", ".ltoy"),)
        valid_exts = (".ltoy",)
        format_magic = ((0, b"VXT1"),)
        format_priority = 5

    assert LabImage.__name__ == "LabImage"  # the decorator returns the class
    info = {f.name: f for f in vx.formats()}["lab-toy"]
    assert info.status == "ok" and info.can_write and info.plugin == "'runtime' (runtime)"
    assert ".ltoy.gz" in info.extensions
    assert "int16" in info.dtypes and "float32" in info.dtypes
    assert info.description == "Our lab's toy variant."
    path = tmp_path / "a.ltoy"
    vx.save(toy_image(), path)
    img = vx.load(path)
    assert type(img) is LabImage and img.format_name == "lab-toy"
    assert vx.sniff(path)[0].name == "lab-toy"
    # same content under the toy name: the toy format (extension group) wins
    assert vx.load(path, format="toy").format_name == "toy"


def test_decorator_with_fields_and_re_registration(runtime_cleanup):
    class Lab2(vx.ToyImage):
        files_types = (("image", ".l2"),)

    vx.register_format(magic=[(0, b"VXT1")], description="first")(Lab2)
    vx.register_format(Lab2, magic=[(0, b"VXT1")], description="second")  # replaces quietly
    assert {f.name: f.description for f in vx.formats()}["lab2"] == "second"


def test_register_a_spec_and_unregister_it(runtime_cleanup, tmp_path):
    spec = vx.FormatSpec(name="toy2", image_class="voxelio_toy.image:ToyImage",
                         extensions=(".toy2",), magic=[(0, b"VXT1")])
    assert vx.register_format(spec) is spec
    path = tmp_path / "a.toy2"
    vx.save(toy_image(), path)
    assert vx.load(path).format_name == "toy2"
    vx.unregister_format("toy2")
    assert "toy2" not in {f.name for f in vx.formats()}
    assert vx.load(path).format_name == "toy"  # content-only now
    with pytest.raises(KeyError, match="no format named 'toy2'"):
        vx.unregister_format("toy2")


def test_plugin_formats_are_not_replaced_by_accident(runtime_cleanup):
    spec = vx.FormatSpec(name="toy", image_class="x.y:Z", extensions=(".zz",))
    with pytest.raises(InvalidSpecError, match="already provided by voxelio-toy"):
        vx.register_format(spec)
    with pytest.raises(TypeError):
        vx.register_format(42)


def test_runtime_formats_survive_refresh(runtime_cleanup):
    vx.register_format(vx.FormatSpec(name="keep-me", image_class="voxelio_toy.image:ToyImage",
                                     extensions=(".km",)))
    vx.refresh_plugins()
    names = {f.name for f in vx.formats()}
    assert {"keep-me", "toy"} <= names
    assert "keep-me" in store.get_registry().runtime_formats()


def test_the_registry_lists_the_formats_registered_at_run_time(runtime_cleanup):
    before = store.get_registry().runtime_formats()
    assert "toy" not in before and "nifti1" not in before  # plugins' formats are not listed
    vx.register_format(vx.FormatSpec(name="zz-late", image_class="x.y:Z", extensions=(".zl",)))
    vx.register_format(vx.FormatSpec(name="aa-late", image_class="x.y:Z", extensions=(".al",)))
    assert store.get_registry().runtime_formats() == sorted([*before, "aa-late", "zz-late"])
    vx.unregister_format("zz-late")
    assert "zz-late" not in store.get_registry().runtime_formats()


def test_save_picks_writer_by_name_and_converts(runtime_cleanup, tmp_path):
    spec = vx.FormatSpec(name="toy3", image_class="voxelio_toy.image:ToyImage",
                         extensions=(".toy3",), magic=[(0, b"VXT1")])
    vx.register_format(spec)
    img = vx.SpatialImage(np.ones((2, 2, 2), np.float32), np.eye(4))
    vx.save(img, tmp_path / "b.toy.gz", dtype=np.int16)
    back = vx.load(tmp_path / "b.toy.gz")
    assert back.format_name == "toy" and back.get_data_dtype() == np.int16
    np.testing.assert_array_equal(back.get_fdata(), 1)
    with pytest.raises(ImageFileError, match=r"writable suffixes: .*\.toy"):
        vx.save(img, tmp_path / "b.unknown")
    if "nifti1" not in {f.name for f in vx.formats()}:
        with pytest.raises(ImageFileError, match="pip install voxelio-nifti1"):
            vx.save(img, tmp_path / "b.nii")


def test_save_prefers_the_image_class(runtime_cleanup, tmp_path):
    class Other(vx.ToyImage):
        files_types = (("image", ".toy"),)
        format_name = "other-toy"
        format_priority = -1

    vx.register_format(Other, replace=True)
    img = Other(np.zeros((2, 2), np.uint8), np.eye(4))
    vx.save(img, tmp_path / "c.toy")
    assert img.format_name == "other-toy"
    vx.save(toy_image(), tmp_path / "d.toy")
    assert vx.load(tmp_path / "d.toy").format_name == "toy"


def test_before_save_hook_can_veto(runtime_cleanup, tmp_path, monkeypatch):
    (tmp_path / "vetoplug.py").write_text(
        "from voxelio.hookspecs import hookimpl\n"
        "from voxelio.errors import ImageDataError\n"
        "@hookimpl\n"
        "def voxelio_before_save(image, path):\n"
        "    if path.endswith('forbidden.toy'):\n"
        "        raise ImageDataError('site policy forbids this name')\n"
        "@hookimpl\n"
        "def voxelio_fix_header(header):\n"
        "    raise RuntimeError('buggy policy')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("VOXELIO_PLUGINS", "vetoplug")
    vx.refresh_plugins()
    try:
        with pytest.raises(VoxelioError, match="site policy"):
            vx.save(toy_image(), tmp_path / "forbidden.toy")
        assert not (tmp_path / "forbidden.toy").exists()
        vx.save(toy_image(), tmp_path / "fine.toy")
        with pytest.warns(vx.registry.PluginWarning, match="voxelio_fix_header.. raised Runtime"):
            assert vx.load(tmp_path / "fine.toy").format_name == "toy"
        status = {f.name: f.status for f in vx.formats()}
        assert status["toy"] == "ok"
        plugin = next(p for p in store.get_registry().plugins if p.name == "vetoplug")
        assert "buggy policy" in plugin.status
    finally:
        monkeypatch.delenv("VOXELIO_PLUGINS")
        vx.refresh_plugins()
