"""FormatSpec: normalisation, derived views, and precise validation messages."""

from __future__ import annotations

import pytest

from voxelio.registry import FormatSpec, InvalidSpecError, MagicRule
from voxelio.registry.spec import MAX_SNIFF_BYTES, validate_spec


def make(**fields):
    fields.setdefault("name", "fmt")
    fields.setdefault("image_class", "pkg.mod:Image")
    fields.setdefault("extensions", (".fmt",))
    return FormatSpec(**fields)


def test_defaults_and_derived_values():
    spec = make(magic=[(4, b"AB")], exports={"FmtHeader": "pkg.mod:FmtHeader"})
    assert spec.magic == (MagicRule(4, b"AB"),)
    assert spec.sniff_bytes == 6
    assert spec.files_types == (("image", ".fmt"),)
    assert spec.sniff_file_type == "image"
    assert spec.suffixes[-1] == ".fmt" and ".fmt.gz" in spec.suffixes
    assert spec.export_map == {"Image": "pkg.mod:Image", "FmtHeader": "pkg.mod:FmtHeader"}
    assert hash(spec) == hash(make(magic=[(4, b"AB")], exports={"FmtHeader": "pkg.mod:FmtHeader"}))


def test_pair_spec_sniffs_the_header_file():
    spec = make(extensions=(".img", ".hdr"), files_types=(("image", ".img"), ("header", ".hdr")))
    assert spec.sniff_file_type == "header"
    assert spec.match_suffix("x.HDR.gz") == ".hdr.gz"
    assert spec.match_suffix("x.nii") == ""
    assert spec.match_suffix(".hdr") == ""  # a bare suffix is not a file name


def test_aliases_and_no_compression():
    spec = make(extensions=(".mgx",), aliases=(".mgy",), compressed_suffixes=())
    assert set(spec.suffixes) == {".mgx", ".mgy"}


def test_every_problem_is_listed():
    with pytest.raises(InvalidSpecError) as info:
        FormatSpec(
            name="Bad Name",
            image_class="nocolon",
            extensions=("nii",),
            magic=[(-1, b"x"), (0, "text")],
            sniff="not callable",
            dtypes=("",),
            supersedes=("Bad Name",),
            can_read="yes",
        )
    message = str(info.value)
    for fragment in (
        "'Bad Name'",
        "name 'Bad Name' must be a lower-case word",
        "image_class 'nocolon' must look like 'package.module:ClassName'",
        "extensions entry 'nii' must be a suffix",
        "magic entry MagicRule(offset=-1",
        "magic entry MagicRule(offset=0, data='text')",
        "sniff must be callable",
        "dtypes entry '' must be a numpy dtype name",
        "supersedes entry 'Bad Name' must name another format",
        "can_read must be True or False",
    ):
        assert fragment in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"sniff": lambda p, f: None}, "sniff_bytes must say how many"),
        ({"magic": [(10, b"AB")], "sniff_bytes": 4}, "less than the 12 bytes"),
        ({"sniff_bytes": MAX_SNIFF_BYTES + 1, "magic": [(0, b"A")]}, "exceeds the limit"),
        ({"extensions": (), "magic": ()}, "nothing could ever select it"),
        ({"extensions": ".nii"}, "extensions must be a sequence"),
        ({"files_types": (("image", ".a"), ("image", ".b"))}, "repeated file types"),
        ({"sniff_file_type": "header"}, "sniff_file_type 'header' is not one of ['image']"),
        ({"exports": {"not an identifier": "a:b"}}, "exports entry"),
        ({"image_class": 42}, "image_class must be"),
        ({"api_version": "1"}, "api_version must be an int"),
    ],
)
def test_single_problems(fields, fragment):
    with pytest.raises(InvalidSpecError, match="invalid FormatSpec") as info:
        make(**fields)
    assert fragment in str(info.value)


# every field that names something: (its fields given the white space a copied
# name may carry, the start of the problem reported with that value)
NAMED_FIELDS = {
    "name": (lambda w: {"name": "fmt" + w}, lambda w: f"name {'fmt' + w!r} must be"),
    "image_class": (lambda w: {"image_class": "pkg.mod:Image" + w},
                    lambda w: f"image_class {'pkg.mod:Image' + w!r} must"),
    "extensions": (lambda w: {"extensions": (".fmt" + w,)},
                   lambda w: f"extensions entry {'.fmt' + w!r} must be a suffix"),
    "aliases": (lambda w: {"aliases": (".fmz" + w,)},
                lambda w: f"aliases entry {'.fmz' + w!r} must be a suffix"),
    "compressed_suffixes": (lambda w: {"compressed_suffixes": (".gz" + w,)},
                            lambda w: f"compressed_suffixes entry {'.gz' + w!r} must be"),
    "files_types extension": (lambda w: {"files_types": (("image", ".fmt" + w),)},
                              lambda w: f"files_types entry {('image', '.fmt' + w)!r}: "),
    "files_types file type": (lambda w: {"files_types": (("image" + w, ".fmt"),)},
                              lambda w: f"files_types entry {('image' + w, '.fmt')!r}: "),
    "sniff_file_type": (lambda w: {"sniff_file_type": "image" + w},
                        lambda w: f"sniff_file_type {'image' + w!r} is not one of"),
    "exports name": (lambda w: {"exports": {"Header" + w: "pkg.mod:Header"}},
                     lambda w: f"exports entry {('Header' + w, 'pkg.mod:Header')!r} must"),
    "exports reference": (lambda w: {"exports": {"Header": "pkg.mod:Header" + w}},
                          lambda w: f"exports entry {('Header', 'pkg.mod:Header' + w)!r}"),
    "supersedes": (lambda w: {"supersedes": ("other" + w,)},
                   lambda w: f"supersedes entry {'other' + w!r} must name another format"),
    "nibabel_class": (lambda w: {"nibabel_class": "nibabel.x:Y" + w},
                      lambda w: f"nibabel_class {'nibabel.x:Y' + w!r} must"),
}


@pytest.mark.parametrize("field", list(NAMED_FIELDS))
@pytest.mark.parametrize("space", ["\n", " ", "\t", "\r\n"], ids=repr)
def test_white_space_in_a_named_field_is_refused_naming_the_field(field, space):
    fields, problem = NAMED_FIELDS[field]
    with pytest.raises(InvalidSpecError) as info:
        make(**fields(space))
    assert f"  - {problem(space)}" in str(info.value)


@pytest.mark.parametrize("field", list(NAMED_FIELDS))
def test_the_same_fields_without_the_white_space_are_valid(field):
    fields, _ = NAMED_FIELDS[field]
    make(**fields(""))


def test_white_space_around_a_dtype_is_dropped():
    spec = make(dtypes=(" int16\n", "<f4\t"))
    assert spec.dtypes == ("int16", "<f4")
    assert validate_spec(spec) == []


def test_dtypes_are_checked_with_numpy_later():
    spec = make(dtypes=("int16", "<f4", "[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]", "int77"))
    problems = validate_spec(spec)
    assert len(problems) == 1 and "'int77' is not a numpy dtype" in problems[0]


def test_image_class_may_be_a_class_at_runtime():
    class Image:
        pass

    spec = make(image_class=Image)
    assert spec.load_image_class() is Image
    assert spec.image_class_ref.endswith(".<locals>.Image")
