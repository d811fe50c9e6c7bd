"""Names a module resolves on first access (voxelio._lazy) are the defining modules' objects."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: the modules whose names are imported on first access, and their tables
LAZY_MODULES = ("voxelio", "voxelio.plugin", "voxelio.codecs")

RESOLVE = r"""
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
table = module._LAZY
before = set(vars(module))
out = {}
for name in module.__all__:
    value = getattr(module, name)
    ref = table.get(name)
    if ref is None:
        out[name] = "eager" if name in before else "missing"
        continue
    where, colon, attr = ref.partition(":")
    defined = importlib.import_module(where)
    if attr or not colon:  # "module:" names the module itself
        defined = getattr(defined, attr or name)
    out[name] = "same" if value is defined else "other"
    # resolved once: later lookups find the module attribute itself
    assert name in vars(module), name
out["__dir__"] = sorted(set(module.__all__) - set(dir(module)))
print(json.dumps(out))
"""


@pytest.mark.parametrize("module", LAZY_MODULES)
def test_every_public_name_resolves_to_the_defining_object(module):
    done = subprocess.run([sys.executable, "-c", RESOLVE, module], capture_output=True,
                          text=True, check=True, timeout=120)
    out = json.loads(done.stdout)
    assert out.pop("__dir__") == []
    assert {name: how for name, how in out.items() if how not in ("same", "eager")} == {}
    assert "same" in out.values()


def test_unknown_names_raise_attribute_error_naming_the_module():
    import voxelio
    import voxelio.codecs
    import voxelio.plugin

    for module in (voxelio, voxelio.plugin, voxelio.codecs):
        with pytest.raises(AttributeError, match=module.__name__.replace(".", r"\.")):
            module.no_such_name  # noqa: B018
    # a class-like name is looked up among the plugins' exports
    with pytest.raises(AttributeError, match="NoSuchImage"):
        voxelio.NoSuchImage  # noqa: B018
    assert voxelio.orientation.io_orientation is not None  # a submodule as an attribute
