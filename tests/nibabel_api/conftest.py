"""Run NiBabel's generic API tests on voxelio's classes.

The adapter modules here subclass NiBabel's class-parameterised test classes
(read from the installed NiBabel, pinned in requirements-test.txt) and set
voxelio's image, header and proxy classes on them. This file supplies what
NiBabel's own conftest would (the ``supported_dtype`` parameter), and marks
the cases listed in :mod:`nibabel_expectations` (documented deliberate differences,
tests of NiBabel-private internals).
"""

from __future__ import annotations

import nibabel_bind  # noqa: F401  (binds NiBabel's test modules to voxelio's errors first)
import nibabel_expectations as expectations
import pytest

from voxelio.dtypes import supported_np_types


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # NiBabel's image tests take every dtype the image's header can store
    if "supported_dtype" in metafunc.fixturenames:
        header = metafunc.cls.image_class.header_class()
        dtypes = sorted(supported_np_types(header), key=lambda t: t.__name__)
        metafunc.parametrize("supported_dtype", dtypes)


# NiBabel's tests save Analyze images with affines Analyze cannot store (an
# unflipped x, shears); voxelio says so with a ConversionWarning where NiBabel
# is silent (docs/differences.md, "An affine the format cannot store is
# reported"). The warning is voxelio's deliberate answer to NiBabel's test
# data, not news: tests/interop/test_affine_not_kept.py checks it.
_ANALYZE_AFFINE_NOT_KEPT = pytest.mark.filterwarnings(
    r"ignore:AnalyzeImage cannot keep. the (full )?affine:voxelio.errors.ConversionWarning"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expectations.apply(items)
    here = str(config.rootpath / "tests" / "nibabel_api")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(_ANALYZE_AFFINE_NOT_KEPT)
