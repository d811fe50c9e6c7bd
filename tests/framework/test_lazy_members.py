"""Names whose code is imported on first use are the same objects as before."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import voxelio
from voxelio import api
from voxelio._lazy import LazyMember
from voxelio.image import SpatialImage

MOVED_API = {
    "save": "voxelio._api_save",
    "sniff": "voxelio._api_registry",
    "formats": "voxelio._api_registry",
    "environment_report": "voxelio._api_registry",
    "register_format": "voxelio._api_registry",
    "unregister_format": "voxelio._api_registry",
    "refresh_plugins": "voxelio._api_registry",
}


@pytest.mark.parametrize("name", sorted(MOVED_API))
def test_api_functions_are_one_object_under_every_name(name):
    import importlib

    home = importlib.import_module(MOVED_API[name])
    assert getattr(api, name) is getattr(home, name)
    if name in voxelio.__all__:
        assert getattr(voxelio, name) is getattr(api, name)
    assert name in dir(api)


def test_image_methods_are_the_functions_of_their_module():
    from voxelio import _image_conversion, _image_writing

    assert SpatialImage.to_filename is _image_writing.to_filename
    assert vars(SpatialImage)["to_filename"] is _image_writing.to_filename
    assert SpatialImage.to_filename.__qualname__ == "SpatialImage.to_filename"
    assert SpatialImage.as_reoriented is _image_conversion.as_reoriented
    bound = voxelio.Nifti1Image.from_image
    assert bound.__self__ is voxelio.Nifti1Image  # a classmethod binds to the class asked
    assert bound.__func__ is vars(SpatialImage)["from_image"].__func__


def test_nifti_header_methods_are_the_mixins():
    from voxelio_nifti1.conversion import ConversionMixin
    from voxelio_nifti1.metadata import MetadataMixin

    header_class = voxelio.Nifti1Image.header_class
    assert header_class.get_intent is vars(MetadataMixin)["get_intent"]
    assert header_class.conversion_losses is vars(ConversionMixin)["conversion_losses"]
    hdr = voxelio.Nifti2Image.header_class()  # a subclass resolves the base's members
    hdr.set_xyzt_units("mm", "msec")
    assert hdr.get_xyzt_units() == ("mm", "msec")


def test_a_lazy_member_binds_as_a_class_attribute_would(tmp_path, monkeypatch):
    (tmp_path / "lazy_target_mod.py").write_text(textwrap.dedent("""
        def twice(self):
            return 2 * self.value

        @classmethod
        def make(cls, value):
            obj = cls()
            obj.value = value
            return obj

        def described(self):
            return "lazy " + super(Base, self).described()
    """))
    monkeypatch.syspath_prepend(str(tmp_path))

    class Root:
        def described(self):
            return "root"

    class Base(Root):
        value = 1
        twice = LazyMember("lazy_target_mod:twice")
        make = LazyMember("lazy_target_mod:make")
        described = LazyMember("lazy_target_mod:described")

    class Child(Base):
        def twice(self):
            return super().twice() + 1  # through super() before anything resolved it

    import lazy_target_mod

    lazy_target_mod.Base = Base
    child = Child.make(5)
    assert type(child) is Child and child.value == 5
    assert child.twice() == 11
    assert Base().described() == "lazy root"
    assert vars(Base)["twice"] is lazy_target_mod.twice  # the placeholder is gone
    assert Base.twice.__qualname__ == f"{Base.__qualname__}.twice"
    missing = LazyMember("lazy_target_mod:missing")
    missing.__set_name__(Base, "missing")
    with pytest.raises(AttributeError):
        missing.__get__(None, Base)


def test_saves_and_conversions_work_through_the_lazy_names(tmp_path):
    img = voxelio.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.eye(4))
    img.header.set_dim_info(0, 1, 2)
    path = tmp_path / "x.nii.gz"
    voxelio.save(img, path)
    back = voxelio.load(path)
    assert np.array_equal(back.get_fdata(), img.get_fdata())
    flipped = back.as_reoriented([[1, -1], [0, 1], [2, 1]])
    assert flipped.header.get_dim_info() == (1, 0, 2)
    pair = voxelio.Nifti1Pair.from_bytes(voxelio.Nifti1Pair.from_image(img).to_bytes())
    assert np.array_equal(pair.get_fdata(), img.get_fdata())


def test_a_fresh_process_resolves_every_lazy_name():
    code = textwrap.dedent("""
        import voxelio, voxelio.api as api
        from voxelio.image import SpatialImage
        for name in api.__all__:
            getattr(api, name)
        for name, value in list(vars(SpatialImage).items()):
            getattr(SpatialImage, name)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
