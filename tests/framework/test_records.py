"""Record classes (voxelio._records) behave as the dataclasses and named tuples they replaced."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from voxelio._fileidentity import FileIdentity
from voxelio.codecs.backends import Deflater
from voxelio.codes import Code
from voxelio.registry.dispatch import Candidate
from voxelio.registry.health import Cause, Health, Status
from voxelio.registry.spec import FormatSpec, MagicRule, SniffResult
from voxelio.slicing import AxisPick, IndexPlan
from voxelio.structheader import Report


def _spec(**changes):
    values = {"name": "rec", "image_class": "pkg.mod:RecImage", "extensions": (".rec",)}
    values.update(changes)
    return FormatSpec(**values)


# each record with a change of one field that makes it differ
CHANGED = [
    (_spec(), {"extensions": (".rec", ".rc")}),
    (MagicRule(4, b"RC"), {"offset": 5}),
    (Candidate("rec", "yes", "magic", True, ".rec", 2, "/x.rec", key=(1, 2)), {"verdict": "no"}),
    (Code(4, "int16", "<i2", ("short",)), {"label": "i2"}),
    (AxisPick(1, 3, 2, drop=False, flip=True), {"flip": False}),
    (IndexPlan((AxisPick(0, 2, 1),), (0,)), {"newaxes": ()}),
    (Deflater(len, list, hash, 6, bytes), {"level": 1}),
    (Report(40, "broken", "fixed"), {"fix_msg": ""}),
]
SAMPLES = [record for record, _ in CHANGED]
IDS = [type(s).__name__ for s in SAMPLES]


@pytest.mark.parametrize("record", SAMPLES, ids=IDS)
def test_dataclasses_sees_the_init_parameters_as_fields(record):
    cls = type(record)
    assert dataclasses.is_dataclass(record) and dataclasses.is_dataclass(cls)
    names = [f.name for f in dataclasses.fields(record)]
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert names == params == list(cls._fields)
    defaults = {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.default is not p.empty
    }
    assert {f.name: f.default for f in dataclasses.fields(cls) if f.name in defaults} == defaults


@pytest.mark.parametrize(("record", "change"), CHANGED, ids=IDS)
def test_replace_asdict_and_equality(record, change):
    copy = dataclasses.replace(record)
    assert copy == record and copy is not record
    assert dataclasses.asdict(record).keys() == {f.name for f in dataclasses.fields(record)}
    changed = dataclasses.replace(record, **change)
    assert changed != record
    (name, value), = change.items()
    assert getattr(changed, name) == value
    assert record != object() and (record == object()) is False
    assert f"{name}=" in repr(record) and type(record).__name__ in repr(record)


@pytest.mark.parametrize("record", SAMPLES[:-1], ids=IDS[:-1])
def test_frozen_records_refuse_changes_and_hash_by_value(record):
    first = dataclasses.fields(record)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, first, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(record, first)
    assert hash(record) == hash(dataclasses.replace(record))
    assert dataclasses.fields(record)[0].name == type(record)._fields[0]


def test_report_is_mutable_and_unhashable_as_before():
    report = Report(20, "odd")
    report.fix_msg = "set to 1"
    assert report == Report(20, "odd", "set to 1")
    with pytest.raises(TypeError):
        hash(report)
    assert report.message == "odd; set to 1"


def test_fields_left_out_of_equality_and_repr():
    # the sniff function and the ranking key do not make two records differ
    assert _spec(sniff=len, sniff_bytes=4) == _spec(sniff=print, sniff_bytes=4)
    assert hash(_spec(sniff=len, sniff_bytes=4)) == hash(_spec(sniff=print, sniff_bytes=4))
    assert not dataclasses.fields(FormatSpec)[8].compare  # sniff
    one = Candidate("a", "yes", "", key=(1,))
    assert one == Candidate("a", "yes", "", key=(2,))
    assert "key" not in repr(one)


def test_records_pickle_and_copy():
    import copy

    for record in [_spec(), MagicRule(0, b"x"), Code(2, "uint8"), Report(10, "x")]:
        assert pickle.loads(pickle.dumps(record)) == record
        assert copy.deepcopy(record) == record


def test_format_spec_still_validates_and_normalises():
    spec = _spec(magic=[(0, b"RC")], exports={"RecHeader": "pkg.mod:RecHeader"})
    assert spec.magic == (MagicRule(0, b"RC"),)
    assert spec.exports == (("RecHeader", "pkg.mod:RecHeader"),)
    assert spec.sniff_bytes == 2 and spec.files_types == (("image", ".rec"),)
    from voxelio.registry.spec import InvalidSpecError

    with pytest.raises(InvalidSpecError, match="lower-case word"):
        _spec(name="Bad Name")


TUPLES = [
    SniffResult("yes", "magic", 4),
    Cause("cannot import", "E", "m"),
    FileIdentity(1, 2, 3, 4),
]


@pytest.mark.parametrize("record", TUPLES, ids=[type(t).__name__ for t in TUPLES])
def test_tuple_records_keep_the_named_tuple_protocol(record):
    cls = type(record)
    params = inspect.signature(cls.__new__).parameters
    assert list(params)[1:] == list(cls._fields)
    defaults = {n: p.default for n, p in params.items() if p.default is not p.empty}
    assert cls._field_defaults == defaults
    assert isinstance(record, tuple) and tuple(record) == tuple(getattr(record, f)
                                                                for f in cls._fields)
    assert record._asdict() == dict(zip(cls._fields, record, strict=True))
    assert cls._make(list(record)) == record and type(cls._make(record)) is cls
    first = cls._fields[0]
    changed = record._replace(**{first: "other"})
    assert changed[0] == "other" and changed[1:] == record[1:] and type(changed) is cls
    with pytest.raises(ValueError, match="unexpected"):
        record._replace(nonsense=1)
    with pytest.raises(TypeError):
        cls._make(list(record)[:-1])
    back = pickle.loads(pickle.dumps(record))
    assert back == record and type(back) is cls
    assert repr(record).startswith(f"{cls.__name__}({first}=")
    with pytest.raises(AttributeError):
        setattr(record, first, 1)
    assert not hasattr(record, "__dict__")


def test_tuple_record_defaults_apply():
    assert SniffResult("no") == ("no", "", 0)
    assert Cause("x") == ("x", None, "")
    assert Status(Health.OK).ok and Status(Health.BROKEN, Cause("x")).inherited("p").plugin == "p"
