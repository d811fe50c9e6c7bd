"""The conformance kit's spec/class agreement check finds each kind of disagreement."""

from __future__ import annotations

import dataclasses

from voxelio.registry import get_registry
from voxelio.testing.conformance import spec_class_mismatches
from voxelio_toy.image import ToyImage


def toy_spec():
    return get_registry().entries["toy"].spec


def test_the_toy_spec_and_class_agree():
    assert spec_class_mismatches(toy_spec(), ToyImage) == []


def test_every_kind_of_disagreement_is_named():
    spec = dataclasses.replace(
        toy_spec(),
        extensions=(".toy", ".ty"),
        files_types=(("image", ".ty"),),
        compressed_suffixes=(".gz",),
        can_write=False,
        dtypes=("uint8", "int64"),
    )
    problems = "\n".join(spec_class_mismatches(spec, ToyImage))
    assert "files_types: class (('image', '.toy'),) != spec (('image', '.ty'),)" in problems
    assert "suffixes: class valid_exts ('.toy',)" in problems
    assert "compressed_suffixes" in problems
    assert "class rw=True but spec can_write=False" in problems
    assert "dtype int64 is declared by the spec but the class cannot store it" in problems
    assert "dtype float32 is stored by the class but not declared by the spec" in problems


def test_a_class_alias_missing_from_the_spec_is_named():
    class AliasToy(ToyImage):
        valid_exts = (".toy", ".tyz")
        compression_aliases = {".tyz": "gzip"}

    problems = "\n".join(spec_class_mismatches(toy_spec(), AliasToy))
    assert "compression_aliases ('.tyz',) are not all spec aliases ()" in problems
    spec = dataclasses.replace(toy_spec(), aliases=(".tyz",))
    assert spec_class_mismatches(spec, AliasToy) == []
