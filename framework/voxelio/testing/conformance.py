"""The conformance suite every format plugin should pass.

Subclass :class:`FormatConformance` in a test module of your plugin, name
the format, and pytest runs every check against it::

    from voxelio.testing import FormatConformance

    class TestMincConformance(FormatConformance):
        format_name = "minc1"

Set the class attributes and override the methods listed in the class
docstring when the defaults do not fit the format. Each check
collects every failure before asserting, so one run shows them all.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..errors import ConversionWarning, VoxelioError
from ..registry.dispatch import content_verdict
from ..registry.spec import VERDICTS, FormatSpec, SniffResult, parse_dtype
from ..registry.store import FormatEntry, get_registry
from .filesafety import FileSafetyChecks


class FormatConformance(FileSafetyChecks):
    """Reusable pytest checks for one format (see the module docstring).

    Every knob is a class attribute or a method of the subclass; only
    ``format_name`` is required.

    Attributes
    ----------
    format_name : str
        The format under test (its ``FormatSpec.name``). Required.
    shape : tuple of int
        Shape of the sample images (default ``(5, 4, 3)``); give the format's
        own number of axes, e.g. 4-D for a format of time series.
    affine : (4, 4) ndarray
        Affine of the sample images (default: zooms 2, 3, 4, x flipped, the
        world origin on voxel (2, 1, 1)). Set one your format can store
        exactly, e.g. a diagonal one for a format that keeps voxel sizes only.
    check_affine : bool
        Whether round trips must give back :attr:`affine` (default True);
        False for a format that stores no affine the kit could compare. Its
        saves then do not warn that the affine was not kept (the
        ``ConversionWarning`` every other save of such an image gives).
    sniff_seconds : float
        Time one call of the content rules may take on any prefix (default 0.5).
    random_prefixes : int
        How many random prefixes the totality check tries (default 200).

    Methods
    -------
    make_image(dtype)
        A sample image stored as ``dtype`` (default: small whole numbers
        every dtype holds, :attr:`shape`, :attr:`affine`). Override when
        the image class needs more, such as a header or extra arguments.
    sample_names()
        File names of the samples (default: ``sample<ext>`` and, when the
        spec allows gzip, ``sample<ext>.gz``).
    sample_files(directory)
        Write the samples into ``directory`` and return their paths
        (default: :meth:`make_image` of the first declared dtype, saved
        under each of :meth:`sample_names`).
    bad_inputs(original)
        ``(description, bytes)`` pairs of damaged copies of a file
        (default: truncations, and 20 copies with random bytes changed
        near the start); every one must load to a voxelio error or to data.

    Notes
    -----
    A check that does not apply to a format is switched off as any pytest
    test is, by overriding it in the subclass (``test_x = None`` removes it
    from collection); say why in a comment.
    """

    format_name: str = ""
    shape: tuple[int, ...] = (5, 4, 3)
    #: affine of the sample images: zooms (2, 3, 4), x flipped, and the world
    #: origin on voxel (2, 1, 1), inside the volume, so that even formats that
    #: keep a translation only as an in-volume origin (Analyze/SPM) can store it
    affine = np.array([[-2.0, 0, 0, 4], [0, 3, 0, -3], [0, 0, 4, -4], [0, 0, 0, 1]])
    #: whether round trips must keep the affine (False for formats without one)
    check_affine: bool = True
    sniff_seconds: float = 0.5
    random_prefixes: int = 200

    # -- hooks authors may override -------------------------------------------------
    def make_image(self, dtype: Any) -> Any:
        """A sample image of the format with on-disk type ``dtype``.

        The default fills the shape with small values that every dtype can
        hold exactly, and uses :attr:`affine`.
        """
        dtype = np.dtype(dtype)
        data = (np.arange(int(np.prod(self.shape))) % 7).reshape(self.shape)
        if dtype.names:  # structured (colour) types: fill every field alike
            arr = np.zeros(self.shape, dtype)
            for name in dtype.names:
                arr[name] = data
        elif dtype.kind == "b":
            arr = (data % 2).astype(dtype)
        else:
            arr = data.astype(dtype)
        img = self.image_class()(arr, self.affine)
        img.set_data_dtype(dtype)
        return img

    def sample_names(self) -> list[str]:
        """File names (in a temporary directory) the sample files get."""
        ext = self.spec().extensions[0]
        names = [f"sample{ext}"]
        if ".gz" in self.spec().compressed_suffixes:
            names.append(f"sample{ext}.gz")
        return names

    def sample_files(self, directory: Path) -> list[Path]:
        """Write the format's sample files into ``directory``; return their names."""
        dtype = self.spec().dtypes[0] if self.spec().dtypes else "float32"
        out = []
        for name in self.sample_names():
            path = directory / name
            self._save(self.make_image(parse_dtype(dtype)), path)
            out.append(path)
        return out

    def bad_inputs(self, original: bytes) -> Iterator[tuple[str, bytes]]:
        """Damaged versions of a file's bytes: (description, bytes)."""
        size = len(original)
        for cut in sorted({1, 4, self.spec().sniff_bytes // 2, self.spec().sniff_bytes,
                           size // 2, size - 1}):
            if 0 < cut < size:
                yield f"truncated to {cut} bytes", original[:cut]
        rng = np.random.default_rng(0)
        head = min(size, max(self.spec().sniff_bytes, 64) * 4)
        for trial in range(20):
            damaged = bytearray(original)
            for pos in rng.integers(0, head, size=4):
                damaged[pos] = int(rng.integers(0, 256))
            yield f"random bytes changed (trial {trial})", bytes(damaged)

    # -- helpers ---------------------------------------------------------------------------
    def _saving(self) -> contextlib.AbstractContextManager[Any]:
        # the warning that a save did not keep the affine is silenced only for
        # a format that said it keeps none (check_affine False): anywhere else
        # it is news, and a test run that warns should show it
        return contextlib.nullcontext() if self.check_affine else _affine_not_kept_ignored()

    def _save(self, img: Any, path: Path, **options: Any) -> None:
        import voxelio as vx

        with self._saving():
            vx.save(img, path, format=self.format_name, **options)

    def entry(self) -> FormatEntry:
        """The registry entry of the format under test."""
        if not self.format_name:
            raise TypeError(f"{type(self).__name__} must set format_name")
        entry = get_registry().entries.get(self.format_name)
        if entry is None:
            pytest.fail(f"format {self.format_name!r} is not registered; is its plugin installed?")
        return entry

    def spec(self) -> FormatSpec:
        """The spec of the format under test."""
        return self.entry().spec

    def image_class(self) -> Any:
        """The format's image class."""
        return self.spec().load_image_class()

    def dtypes(self) -> list[np.dtype]:
        """The dtypes the spec declares."""
        return [parse_dtype(name) for name in self.spec().dtypes]

    # -- the checks ------------------------------------------------------------------------
    def test_spec_is_registered_and_valid(self) -> None:
        """The spec is healthy, declares dtypes, and its image class imports."""
        entry = self.entry()
        assert entry.ok, entry.status
        assert self.spec().dtypes, "the spec declares no dtypes"
        assert len(self.dtypes()) == len(self.spec().dtypes)  # numpy parses every one
        klass = self.image_class()
        assert isinstance(klass, type)
        assert self.spec().export_map, "nothing is exported"

    def test_spec_agrees_with_image_class(self) -> None:
        """Spec and image class state the same suffixes, file types, compression and dtypes."""
        problems = spec_class_mismatches(self.spec(), self.image_class())
        assert not problems, "\n".join(problems)

    def test_entry_module_import_is_pure(self) -> None:
        """Importing the plugin's entry module imports no numpy and no reader code."""
        module = self.entry().plugin.module
        if module is None:
            pytest.skip("runtime-registered format: no entry module")
        ref = self.spec().image_class_ref
        code = (
            "import json, sys, voxelio.registry, voxelio.hookspecs\n"
            "before = set(sys.modules)\n"
            f"import {module}\n"
            "print(json.dumps(sorted(set(sys.modules) - before)))\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        new = json.loads(done.stdout)
        reader_module = ref.partition(":")[0]
        heavy = [m for m in new if m == "numpy" or m.startswith("numpy.") or m == reader_module]
        assert not heavy, f"importing {module} imported {heavy}"

    def test_sniff_accepts_own_files(self, tmp_path: Path) -> None:
        """Dispatch picks this format for its own files, through compression too."""
        import voxelio as vx

        problems = []
        for path in self.sample_files(tmp_path):
            best = next((c for c in vx.sniff(path) if c.accepted), None)
            if best is None or best.name != self.format_name:
                problems.append(f"{path.name}: sniff ranks {best} first")
            elif vx.load(path).format_name != self.format_name:
                problems.append(f"{path.name}: load chose another format")
        assert not problems, "\n".join(problems)

    def test_sniff_never_claims_other_formats_files(self, tmp_path: Path) -> None:
        """On another installed format's sample file, this format never ranks first."""
        import voxelio as vx

        problems, tried = [], 0
        for path, owner in _other_samples(self.format_name, tmp_path, self.shape):
            tried += 1
            first = next((c for c in vx.sniff(path) if c.accepted), None)
            if first is not None and first.name == self.format_name:
                problems.append(f"claims {owner}'s file {path.name}: {first.evidence}")
        if not tried:
            pytest.skip("no other writable format installed")
        assert not problems, "\n".join(problems)

    def test_sniff_is_total(self, tmp_path: Path) -> None:
        """Content rules answer (never raise, never hang) on any prefix."""
        spec = self.spec()
        own = _decompressed(self.sample_files(tmp_path)[0], spec)[: spec.sniff_bytes]
        rng = np.random.default_rng(1)
        prefixes = [b"", *(own[:n] for n in range(0, len(own) + 1, max(1, len(own) // 64)))]
        prefixes += [rng.bytes(int(rng.integers(0, spec.sniff_bytes + 1)))
                     for _ in range(self.random_prefixes)]
        prefixes += [bytes(spec.sniff_bytes), b"\xff" * spec.sniff_bytes]
        problems = []
        for prefix, filespec in itertools.product(prefixes, (None, f"x{spec.extensions[0]}")):
            start = time.perf_counter()
            try:
                said = content_verdict(spec, prefix, filespec)
            except Exception as exc:
                problems.append(f"{len(prefix)}-byte prefix {prefix[:16]!r}...: raised {exc!r}")
                continue
            valid = isinstance(said, SniffResult) and said.verdict in VERDICTS
            if said is not None and not valid:
                problems.append(f"bad verdict {said!r}")
            if time.perf_counter() - start > self.sniff_seconds:
                limit = self.sniff_seconds
                problems.append(f"{len(prefix)}-byte prefix took longer than {limit}s")
        assert not problems, "\n".join(problems[:20])

    def test_round_trip_every_dtype_through_files(self, tmp_path: Path) -> None:
        """Every declared dtype survives save and load (plain and compressed)."""
        problems = []
        for dtype in self.dtypes():
            for name in self.sample_names():
                path = tmp_path / f"{dtype.str.strip('<>|=')}-{name}"
                img = self.make_image(dtype)
                try:
                    self._save(img, path)
                    problems += _compare(img, _load(path), f"{dtype} via {path.name}",
                                         self.check_affine)
                except Exception as exc:
                    problems.append(f"{dtype} via {path.name}: {type(exc).__name__}: {exc}")
        assert not problems, "\n".join(problems)

    def test_round_trip_every_dtype_through_bytesio(self) -> None:
        """Every declared dtype survives to_file_map/from_file_map on BytesIO objects."""
        klass = self.image_class()
        problems = []
        for dtype in self.dtypes():
            img = self.make_image(dtype)
            file_map = klass.make_file_map({t: io.BytesIO() for t, _ in klass.files_types})
            try:
                with self._saving():
                    img.to_file_map(file_map)
                for holder in file_map.values():
                    holder.fileobj.seek(0)
                back = klass.from_file_map(file_map)
                problems += _compare(img, back, f"{dtype} via BytesIO", self.check_affine)
            except Exception as exc:
                problems.append(f"{dtype} via BytesIO: {type(exc).__name__}: {exc}")
        assert not problems, "\n".join(problems)

    def test_proxy_slicing_equals_full_read(self, tmp_path: Path) -> None:
        """``img.dataobj[idx]`` equals ``np.asarray(img.dataobj)[idx]``."""
        from ..proxy import is_proxy

        problems = []
        for path in self.sample_files(tmp_path):
            img = _load(path)
            assert is_proxy(img.dataobj), f"{path.name}: dataobj is not a proxy"
            full = np.asarray(img.dataobj)
            for index in _indices(len(self.shape)):
                got = img.dataobj[index]
                if got.shape != full[index].shape or not np.array_equal(got, full[index]):
                    problems.append(f"{path.name}[{index!r}] differs from the full read")
        assert not problems, "\n".join(problems)

    def test_header_bytes_round_trip(self, tmp_path: Path) -> None:
        """Save, load, save again: every file is byte for byte the same."""
        first = tmp_path / f"first{self.spec().extensions[0]}"
        second = tmp_path / f"second{self.spec().extensions[0]}"
        self._save(self.make_image(self.dtypes()[0]), first)
        img = _load(first)
        self._save(img, second)
        again = _load(second)
        for file_type in img.file_map:
            a = Path(img.file_map[file_type].filename).read_bytes()
            b = Path(again.file_map[file_type].filename).read_bytes()
            assert a == b, f"{file_type} file changed on re-save"
        header = img.header
        if hasattr(header, "binaryblock"):
            # the constructor, not from_fileobj: a format's block need not be a
            # file prefix (a footer after the data belongs to the header too)
            copy = type(header)(header.binaryblock)
            assert copy.binaryblock == header.binaryblock

    def test_bad_input_raises_voxelio_errors(self, tmp_path: Path) -> None:
        """Truncated and corrupted files give voxelio errors, nothing else."""
        problems = []
        sample = self.sample_files(tmp_path)[0]
        img = _load(sample)
        for file_type, holder in img.file_map.items():
            original = Path(holder.filename).read_bytes()
            for what, data in self.bad_inputs(original):
                Path(holder.filename).write_bytes(data)
                try:
                    np.asarray(_load(sample).dataobj)
                except VoxelioError:
                    pass
                except Exception as exc:
                    problems.append(f"{file_type} file {what}: {type(exc).__name__}: {exc}")
            Path(holder.filename).write_bytes(original)
        assert not problems, "\n".join(problems[:20])

    def test_image_module_imports(self) -> None:
        """The module of the image class imports in a fresh interpreter (not only the entry)."""
        ref = self.spec().image_class_ref
        if ":" not in ref:
            pytest.skip("the image class was registered as an object, not by name")
        module = ref.partition(":")[0]
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOXELIO_")}
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, f"import {module} failed:\n{done.stderr}"

    def test_undeclared_dtypes_are_refused_on_save(self, tmp_path: Path) -> None:
        """Saving a dtype the spec does not declare raises a voxelio error, nothing else."""
        declared = {dtype.newbyteorder("=") for dtype in self.dtypes()}
        undeclared = [np.dtype(name) for name in _PROBE_DTYPES
                      if np.dtype(name) not in declared]
        if not undeclared:
            pytest.skip("the spec declares every probed dtype")
        problems = []
        for dtype in undeclared:
            path = tmp_path / f"undeclared-{dtype}{self.spec().extensions[0]}"
            for what, attempt in (
                ("save(..., dtype=...)", lambda path=path, dtype=dtype: self._save(
                    self.make_image(self.dtypes()[0]), path, dtype=dtype)),
                ("data of that dtype", lambda path=path, dtype=dtype: self._save(
                    self.image_class()(np.zeros(self.shape, dtype), self.affine), path)),
            ):
                try:
                    attempt()
                except VoxelioError:
                    continue
                except Exception as exc:
                    problems.append(f"{dtype} ({what}): {type(exc).__name__}: {exc}")
                    continue
                problems.append(f"{dtype} ({what}): saved although the spec does not declare it")
        assert not problems, "\n".join(problems)

    def test_negative_dims_are_refused(self) -> None:
        """A header refuses a negative data shape with a voxelio error."""
        header = self.image_class().header_class()
        try:
            header.set_data_shape((2, -1, 3))
        except VoxelioError:
            return
        except Exception as exc:
            pytest.fail(f"set_data_shape((2, -1, 3)) raised {type(exc).__name__}: {exc}")
        pytest.fail(f"set_data_shape((2, -1, 3)) was accepted: {header.get_data_shape()}")

    def test_zero_and_one_dimensional_data(self, tmp_path: Path) -> None:
        """0-d and 1-d data either round-trip or raise a voxelio error."""
        dtype = self.dtypes()[0]
        problems = []
        for shape in ((), (5,)):
            arr = np.zeros(shape, dtype) if dtype.names else np.full(shape, 3, dtype)
            path = tmp_path / f"{len(shape)}d{self.spec().extensions[0]}"
            try:
                img = self.image_class()(arr, np.eye(4))
                # a check of the data: what a 0-d or 1-d image keeps of an
                # affine (one voxel size, if any) is the format's business
                with _affine_not_kept_ignored():
                    self._save(img, path)
                back = _load(path)
                if not np.array_equal(np.asarray(back.dataobj).reshape(shape), arr):
                    problems.append(f"{len(shape)}-d data changed: {np.asarray(back.dataobj)!r}")
            except VoxelioError:
                pass
            except Exception as exc:
                problems.append(f"{len(shape)}-d data: {type(exc).__name__}: {exc}")
        assert not problems, "\n".join(problems)


# -- module helpers ---------------------------------------------------------------------------
#: numpy types that exist at full precision on some platforms only: a class may
#: store them where they exist without its spec (the same everywhere) declaring them
_PLATFORM_TYPES = ("longdouble", "clongdouble")
#: dtypes the undeclared-dtype check tries (those a spec does not declare)
_PROBE_DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                 "uint64", "float16", "float32", "float64", "complex64", "complex128")


def spec_class_mismatches(spec: FormatSpec, klass: type) -> list[str]:
    """Where a FormatSpec and its image class disagree (empty when they agree).

    The registry names and chooses files by the spec; the class names them
    (``to_filename``, ``filespec_to_file_map``) and stores dtypes by its own
    attributes. Both must say the same, best by reading one plain-data
    module of format facts.

    Parameters
    ----------
    spec : FormatSpec
    klass : type
        The spec's image class.

    Returns
    -------
    list of str
        One line per disagreement.
    """
    from ..dtypes import supported_dtypes

    problems = []
    files_types = tuple(tuple(item) for item in getattr(klass, "files_types", ()))
    if files_types != spec.files_types:
        problems.append(f"files_types: class {files_types} != spec {spec.files_types}")
    class_exts = tuple(getattr(klass, "valid_exts", ())) or tuple(e for _, e in files_types if e)
    spec_exts = spec.extensions + spec.aliases
    if {e.lower() for e in class_exts} != {e.lower() for e in spec_exts}:
        problems.append(f"suffixes: class valid_exts {class_exts} != spec extensions + aliases "
                        f"{spec_exts}")
    compressed = tuple(getattr(klass, "compressed_suffixes", ()))
    if set(compressed) != set(spec.compressed_suffixes):
        problems.append(f"compressed_suffixes: class {compressed} != spec "
                        f"{spec.compressed_suffixes}")
    aliases = tuple(getattr(klass, "compression_aliases", None) or ())
    if not {a.lower() for a in aliases} <= {a.lower() for a in spec.aliases}:
        problems.append(f"compression_aliases {aliases} are not all spec aliases {spec.aliases}")
    if bool(getattr(klass, "rw", False)) != spec.can_write:
        problems.append(f"class rw={getattr(klass, 'rw', False)} but spec can_write="
                        f"{spec.can_write}")
    declared = {parse_dtype(name) for name in spec.dtypes}
    stored = set(supported_dtypes(klass))
    optional = {np.dtype(getattr(np, name)) for name in _PLATFORM_TYPES} - declared
    for dtype in sorted(declared - stored, key=str):
        problems.append(f"dtype {dtype} is declared by the spec but the class cannot store it")
    for dtype in sorted(stored - declared - optional, key=str):
        problems.append(f"dtype {dtype} is stored by the class but not declared by the spec")
    return problems


_AFFINE_NOT_KEPT = r"\w+ cannot keep: the (full )?affine"  # the save's own ConversionWarning


@contextlib.contextmanager
def _affine_not_kept_ignored() -> Iterator[None]:
    """Saves inside do not warn that the format could not keep the affine."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _AFFINE_NOT_KEPT, ConversionWarning)
        yield


def _load(path: Path) -> Any:
    import voxelio as vx

    return vx.load(path)


def _compare(expected: Any, got: Any, what: str, check_affine: bool) -> list[str]:
    problems = []
    if got.get_data_dtype() != expected.get_data_dtype():
        problems.append(f"{what}: dtype {got.get_data_dtype()} != {expected.get_data_dtype()}")
    want, have = np.asarray(expected.dataobj), np.asarray(got.dataobj)
    if want.shape != have.shape or not np.array_equal(want, have):
        problems.append(f"{what}: data differ")
    if check_affine and not np.allclose(got.affine, expected.affine, atol=1e-5):
        problems.append(f"{what}: affine {got.affine.tolist()} != {expected.affine.tolist()}")
    return problems


def _indices(ndim: int) -> list[Any]:
    out: list[Any] = [(), (0,), (-1,), (slice(1, None, 2),), (slice(None, None, -1),)]
    out.append((Ellipsis, 1))
    if ndim >= 2:
        out += [(slice(None), 1), (1, slice(None, 2)), (slice(None), slice(None, None, 2))]
    if ndim >= 3:
        out += [(Ellipsis, slice(0, 2)), (0, 1, 2), (slice(None), None, 1)]
    return out


def _decompressed(path: Path, spec: FormatSpec) -> bytes:
    from ..filemaps import FileHolder
    from ..openfiles import reading

    file_map = spec.file_map(str(path))
    with reading(FileHolder(file_map[spec.sniff_file_type].filename)) as stream:
        return stream.read(spec.sniff_bytes)


def _other_samples(
    this: str, directory: Path, shape: tuple[int, ...]
) -> Iterator[tuple[Path, str]]:
    import voxelio as vx

    for entry in get_registry().ok_entries():
        spec = entry.spec
        if spec.name == this or not (spec.can_write and spec.can_read and spec.extensions):
            continue
        try:
            klass = spec.load_image_class()
            dtype = parse_dtype(spec.dtypes[0]) if spec.dtypes else np.dtype(np.float32)
            data = np.ones(shape, dtype) if not dtype.names else np.zeros(shape, dtype)
            path = directory / f"other-{spec.name}{spec.extensions[0]}"
            # a witness need only be the other format's file, whatever that
            # format keeps of the affine
            with _affine_not_kept_ignored():
                vx.save(klass(data, np.eye(4)), path, format=spec.name)
        except Exception:  # a format we cannot make a sample of is no witness
            continue
        yield path, spec.name
