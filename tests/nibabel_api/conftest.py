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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expectations.apply(items)
