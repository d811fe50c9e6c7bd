"""voxelio.codes: code tables look codes and labels up, and index their entries on first use."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from voxelio.codes import Code, CodeTable, DtypeTable, UnknownCodeError


def _entries(made: list[int]):
    for code, label in ((0, "unknown"), (1, "scanner"), (2, "aligned")):
        made.append(code)
        yield Code(code, label, None, (f"CODE_{label.upper()}",))


def test_a_table_reads_its_entries_on_first_use_only():
    made: list[int] = []
    table = CodeTable("transform code", _entries(made))
    assert made == []  # declared, not yet consulted
    assert table.code("scanner") == 1
    assert made == [0, 1, 2]
    assert table.label(2) == "aligned" and table.lookup("code_aligned").code == 2
    assert table.codes() == (0, 1, 2)
    assert [e.label for e in table] == ["unknown", "scanner", "aligned"]
    assert made == [0, 1, 2]  # read once


def test_unknown_codes_and_missing_attributes_are_refused():
    table = CodeTable("transform code", _entries([]))
    with pytest.raises(UnknownCodeError, match="transform code 7 is not recognised"):
        table.lookup(7)
    assert 7 not in table and "scanner" in table
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        table.nothing  # noqa: B018


@pytest.mark.parametrize("clone", [copy.copy, copy.deepcopy,
                                   lambda t: pickle.loads(pickle.dumps(t))])
def test_a_table_not_yet_used_copies_and_pickles(clone):
    made: list[int] = []
    twin = clone(CodeTable("transform code", _entries(made)))
    assert twin.code("aligned") == 2 and twin.codes() == (0, 1, 2)


def test_dtype_rows_are_converted_when_the_table_is_first_used():
    rows = [(2, "uint8", "uint8", ()), (4, "int16", "int16", ("short",)), (9, "odd", None, ())]
    table = DtypeTable.from_rows("data type", iter(rows))
    assert table.dtype("short") == np.dtype(np.int16)
    assert table.code_for_dtype(np.uint8) == 2
    assert table.supported_dtypes() == (np.dtype(np.uint8), np.dtype(np.int16))


LOAD_THEN_LIST_BUILT = r"""
import json, sys
import voxelio
import voxelio_nifti1.codes as codes
voxelio.load(sys.argv[1]).get_fdata()
names = ("DATATYPES", "XFORM_CODES", "UNIT_CODES", "SLICE_ORDER_CODES", "INTENT_CODES",
         "EXTENSION_CODES")
print(json.dumps([n for n in names if "_given" not in vars(getattr(codes, n))]))
"""


def test_a_nifti_load_builds_only_the_tables_it_consults(tmp_path):
    import json
    import subprocess
    import sys

    import voxelio

    path = tmp_path / "tiny.nii"
    voxelio.save(voxelio.Nifti1Image(np.zeros((2, 3, 4), np.int16), np.eye(4)), path)
    done = subprocess.run([sys.executable, "-c", LOAD_THEN_LIST_BUILT, str(path)],
                          capture_output=True, text=True, check=True, timeout=120)
    built = json.loads(done.stdout)
    assert "DATATYPES" in built  # the load did look up its data type
    assert not {"UNIT_CODES", "SLICE_ORDER_CODES", "INTENT_CODES", "EXTENSION_CODES"} & set(built)
