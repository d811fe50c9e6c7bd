"""The benchmark cases: each times one operation in voxelio and NiBabel.

A case returns a :class:`Result`: the voxelio/NiBabel ratio of medians,
its spread over alternating pairs, an optional floor, and the checks that
decide pass or miss against the targets of issue 7. Reads are warm (files
in the page cache), as in a pipeline that touches its inputs more than once.
Unless a case says otherwise, both libraries read the same file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import floors
import libs
import memory
import memwarm
import numpy as np
import process
import settle
import timing
from datasets import DataSet


@dataclass(frozen=True)
class Config:
    """How hard to measure."""

    repeats: int = 5
    warmup: int = 1
    # rounds of voxelio / NiBabel / numpy-only processes (~0.35 s a round): the
    # start-up row is decided by 1-3 ms, which 6 rounds could not tell apart
    process_repeats: int = 24
    memory_repeats: int = 2
    further_volumes: int = 5
    open_repeats: int = 20
    budget: float = 1.5  # seconds per library per case: fast operations repeat more
    user_venv: bool = True  # start-up measured with regular installs (benchmarks/uservenv.py)
    save_repeats: int = 9  # saves take 0.05-1.7 s: a median of 5 moved with one slow pair
    settle: bool = True  # written files flushed to disk before each case (see settle.py)
    warm_memory: bool = True  # reads get memory the guest holds (see memwarm.py)
    # full reads with a floor: at least this many rounds (the budget gave the 256^3 reads
    # 5-9, and a slow spell of the host moved a median of so few)
    read_repeats: int = 11


@dataclass(frozen=True)
class Check:
    """One target: ``value`` must be at most ``limit``."""

    label: str
    value: float
    limit: float

    @property
    def passed(self) -> bool:
        return self.value <= self.limit


@dataclass
class Result:
    """Outcome of one case."""

    id: str
    title: str
    target: str
    status: str = "ok"
    unit: str = "s"
    pair: timing.Pair | None = None
    floor: dict[str, Any] | None = None
    checks: list[Check] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.pair.ratio if self.pair else None

    @property
    def passed(self) -> bool | None:
        return all(c.passed for c in self.checks) if self.status == "ok" else None

    def add_floor(self, name: str, stats: timing.Stats, judge: bool = True) -> None:
        """Record a floor and, if ``judge``, the check voxelio/floor <= 1.2."""
        assert self.pair is not None
        ratio = self.pair.voxelio.median / stats.median
        self.floor = {"name": name, "median": stats.median, "ratio": ratio}
        if judge:
            self.checks.append(Check(f"vs {name}", ratio, 1.2))


Data = dict[str, DataSet]
CaseFn = Callable[[Data, Config], Result]
CASES: list[tuple[str, str, str, CaseFn]] = []


def case(case_id: str, title: str, target: str) -> Callable[[CaseFn], CaseFn]:
    """Register a case function under ``case_id``."""
    def deco(fn: CaseFn) -> CaseFn:
        CASES.append((case_id, title, target, fn))
        return fn
    return deco


def run_all(data: Data, cfg: Config, only: str | None = None,
            log: Callable[[str], None] = print,
            keep: Callable[[str], bool] | None = None) -> Iterator[Result]:
    """Run every case (or those whose id contains ``only`` and ``keep`` accepts); never raises."""
    for case_id, title, target, fn in CASES:
        if (only and only not in case_id) or (keep is not None and not keep(case_id)):
            continue
        log(f"case: {case_id}")
        settled = settle.settle() if cfg.settle else None
        try:
            res = fn(data, cfg)
        except libs.NotInstalledError as exc:
            res = Result(case_id, title, target, status=str(exc))
        except Exception as exc:  # a broken case must not hide the others
            res = Result(case_id, title, target, status=f"error: {type(exc).__name__}: {exc}")
        res.id, res.title, res.target = case_id, title, target
        if settled is not None:
            res.notes["settled_before"] = settled
        yield res


# -- helpers -------------------------------------------------------------------------


def _alternate(vx: Callable[[], Any], nib: Callable[[], Any], cfg: Config,
               repeats: int | None = None) -> timing.Pair:
    return timing.alternate(vx, nib, repeats or cfg.repeats, cfg.warmup, cfg.budget)


def _alternate_with_floor(vx: Callable[[], Any], nib: Callable[[], Any],
                          floor: Callable[[], Any], cfg: Config,
                          before: Callable[[], Any] | None = None,
                          ) -> tuple[timing.Pair, timing.Stats]:
    return timing.alternate(vx, nib, max(cfg.repeats, cfg.read_repeats), cfg.warmup,
                            cfg.budget, floor=floor, before=before)


def _repeat(fn: Callable[[], Any], cfg: Config) -> timing.Stats:
    return timing.repeat(fn, cfg.repeats, cfg.warmup, cfg.budget)


def _read_op(op: str) -> Callable[[Any], np.ndarray]:
    if op == "asarray":
        return lambda img: np.asarray(img.dataobj)
    return lambda img: img.get_fdata()


def _layout(path: str) -> tuple[int, np.dtype, tuple[int, ...]]:
    """Data offset, on-disk dtype and shape, as NiBabel's proxy states them."""
    proxy = libs.load("nibabel", path).dataobj
    return int(proxy.offset), np.dtype(proxy.dtype), tuple(proxy.shape)


def _read_pair(path: str, op: str, cfg: Config, floor: Callable[[], Any],
               **load_kw: Any) -> tuple[timing.Pair, timing.Stats]:
    """Both libraries' read of ``path`` and its floor, timed in turn.

    Before each call, twice the output's size of memory is touched and
    freed (untimed): see :mod:`memwarm`.
    """
    libs.voxelio_format(libs.suffix_of(path))
    read = _read_op(op)
    before = memwarm.warmer(2 * _output_bytes(path, op)) if cfg.warm_memory else None
    return _alternate_with_floor(lambda: read(libs.load("voxelio", path, **load_kw)),
                                 lambda: read(libs.load("nibabel", path, **load_kw)),
                                 floor, cfg, before)


def _output_bytes(path: str, op: str) -> int:
    """Bytes of the array a full read of ``path`` returns."""
    _, dtype, shape = _layout(path)
    return int(np.prod(shape)) * (8 if op == "fdata" else dtype.itemsize)


def _to_float(arr: np.ndarray) -> np.ndarray:
    return arr.astype(np.float64)


def _inflate_floor(path: str, op: str) -> tuple[str, Callable[[], Any]]:
    """The label and callable of the one-thread inflate floor of reading ``path``."""
    offset, dtype, shape = _layout(path)
    then = _to_float if op == "fdata" else None
    name, fn = floors.inflate(path, offset, dtype, shape, then)
    return f"{name} inflate" + (" + astype" if then else ""), fn


def _volume_index(shape: tuple[int, ...]) -> int:
    return shape[3] * 3 // 4


# -- full reads of compressed files -----------------------------------------------------


def _register_gz_reads() -> None:
    for name, suffix in (("t1_int16", ".nii.gz"), ("t1_float32", ".nii.gz"),
                         ("conformed_uint8", ".mgz")):
        for op, how in (("asarray", "np.asarray(img.dataobj)"), ("fdata", "get_fdata()")):
            _register_gz_read("nibabel", name, suffix, op, how)
    for op, how in (("asarray", "np.asarray(img.dataobj)"), ("fdata", "get_fdata()")):
        _register_gz_read("voxelio", "t1_int16", ".nii.gz", op, how)


def _register_gz_read(writer: str, name: str, suffix: str, op: str, how: str) -> None:
    short = "nib" if writer == "nibabel" else "vx"
    target = "<= 0.5, <= 1.2x floor" if writer == "nibabel" else "<= 0.3"
    title = f"read {name}{suffix} written by {writer}: {how}"

    @case(f"read-{short}-{name}{suffix}-{op}", title, target)
    def run(data: Data, cfg: Config) -> Result:
        path = data[name].path(writer, suffix)
        label, floor = _inflate_floor(path, op)
        pair, floor_stats = _read_pair(path, op, cfg, floor)
        res = Result("", "", "", pair=pair)
        res.checks.append(Check("vs NiBabel", pair.ratio, 0.5 if short == "nib" else 0.3))
        # voxelio's own files inflate in parallel and may beat the 1-thread floor:
        # that floor is shown for them, not judged
        res.add_floor(label, floor_stats, judge=short == "nib")
        return res


_register_gz_reads()


# -- saves ------------------------------------------------------------------------------


def _register_saves() -> None:
    for name, suffix in (("t1_int16", ".nii.gz"), ("t1_float32", ".nii.gz"),
                         ("conformed_uint8", ".mgz")):
        _register_save(name, suffix, "F")
    _register_save("t1_int16", ".nii.gz", "C")


def _register_save(name: str, suffix: str, order: str) -> None:
    tag = "" if order == "F" else "-corder"
    how = "Fortran-order array, as loaded" if order == "F" else "C-order array"

    @case(f"save-{name}{suffix}{tag}", f"save {name}{suffix} from an in-memory {how}",
          "<= 0.15, size <= 1.03")
    def run(data: Data, cfg: Config) -> Result:
        ds = data[name]
        arr = np.asfortranarray(ds.data) if order == "F" else np.ascontiguousarray(ds.data)
        vx_img = libs.make_image("voxelio", arr, ds.affine, suffix)
        nib_img = libs.make_image("nibabel", arr, ds.affine, suffix)
        vx_out = ds.path("nibabel", suffix).replace(".nib", ".vxsave")
        nib_out = ds.path("nibabel", suffix).replace(".nib", ".nibsave")
        pair = _alternate(lambda: libs.save("voxelio", vx_img, vx_out),
                          lambda: libs.save("nibabel", nib_img, nib_out), cfg,
                          cfg.save_repeats)
        sizes = {"voxelio": os.path.getsize(vx_out), "nibabel": os.path.getsize(nib_out)}
        size_ratio = sizes["voxelio"] / sizes["nibabel"]
        res = Result("", "", "", pair=pair, notes={"bytes": sizes, "size_ratio": size_ratio})
        res.checks += [Check("vs NiBabel", pair.ratio, 0.15), Check("size", size_ratio, 1.03)]
        label, deflate = floors.deflate(arr)
        res.add_floor(label, _repeat(deflate, cfg), judge=False)
        return res


_register_saves()


# -- one volume of a 4D series ---------------------------------------------------------


def _register_volumes() -> None:
    # issue 14: a NiBabel-written series at <= 0.40 (issue 7 asked 0.5)
    for writer, limit in (("nibabel", 0.4), ("voxelio", 0.05)):
        _register_first_volume(writer, limit)
    for writer in ("nibabel", "voxelio"):
        _register_further_volumes(writer)


def _register_first_volume(writer: str, limit: float) -> None:
    short = "nib" if writer == "nibabel" else "vx"

    @case(f"vol4d-first-{short}", f"fMRI .nii.gz by {writer}: load + one volume (3/4 in)",
          f"<= {limit}")
    def run(data: Data, cfg: Config) -> Result:
        ds = data["fmri_int16"]
        path = ds.path(writer, ".nii.gz")
        libs.voxelio_format(".nii.gz")
        k = _volume_index(ds.data.shape)

        def first(lib: str) -> Callable[[], np.ndarray]:
            return lambda: np.asarray(libs.load(lib, path).dataobj[..., k])

        pair = _alternate(first("voxelio"), first("nibabel"), cfg)
        return Result("", "", "", pair=pair, checks=[Check("vs NiBabel", pair.ratio, limit)])


def _register_further_volumes(writer: str) -> None:
    short = "nib" if writer == "nibabel" else "vx"

    @case(f"vol4d-further-{short}", f"fMRI .nii.gz by {writer}: further volumes, same image",
          "<= 5 ms each")
    def run(data: Data, cfg: Config) -> Result:
        ds = data["fmri_int16"]
        path = ds.path(writer, ".nii.gz")
        libs.voxelio_format(".nii.gz")
        n = ds.data.shape[3]
        k = _volume_index(ds.data.shape)
        imgs = {lib: libs.load(lib, path) for lib in ("voxelio", "nibabel")}
        for img in imgs.values():  # the first access is the other case's business
            np.asarray(img.dataobj[..., k])
        # spread over the series, before and after the first volume read
        picks = [(k + 1 + i * 7919) % n for i in range(cfg.further_volumes)]
        a = [timing.clock(lambda t=t: np.asarray(imgs["voxelio"].dataobj[..., t])) for t in picks]
        b = [timing.clock(lambda t=t: np.asarray(imgs["nibabel"].dataobj[..., t])) for t in picks]
        pair = timing.pair_of(a, b)
        ms = pair.voxelio.median * 1e3
        return Result("", "", "", pair=pair, checks=[Check("ms per volume", ms, 5.0)],
                      notes={"volumes": picks, "voxelio_ms": ms})


_register_volumes()


# -- uncompressed .nii ------------------------------------------------------------------


@case("nii-open", ".nii open: load() of 8^3 vs fMRI-size file", "large/small <= 1.5 (lazy)")
def nii_open(data: Data, cfg: Config) -> Result:
    small = data["tiny_int16"].path("nibabel", ".nii")
    large = data["fmri_int16"].path("nibabel", ".nii")
    libs.voxelio_format(".nii")
    pair = _alternate(lambda: libs.load("voxelio", large), lambda: libs.load("nibabel", large),
                      cfg, cfg.open_repeats)
    small_pair = _alternate(lambda: libs.load("voxelio", small),
                            lambda: libs.load("nibabel", small), cfg, cfg.open_repeats)
    growth = pair.voxelio.median / small_pair.voxelio.median
    nib_growth = pair.nibabel.median / small_pair.nibabel.median
    return Result("", "", "", pair=pair, checks=[Check("large/small", growth, 1.5)],
                  notes={"voxelio_large_over_small": growth,
                         "nibabel_large_over_small": nib_growth,
                         "small": small_pair.voxelio.as_dict()})


def _register_nii_reads() -> None:
    for op, how, mmap in (("asarray", "np.asarray(img.dataobj), mmap=False", False),
                          ("fdata", "get_fdata()", True)):
        _register_nii_read(op, how, mmap)


def _register_nii_read(op: str, how: str, mmap: bool) -> None:
    @case(f"nii-read-{op}", f"read t1_int16.nii: {how}", "<= 1.2x floor")
    def run(data: Data, cfg: Config) -> Result:
        path = data["t1_int16"].path("nibabel", ".nii")
        offset, dtype, shape = _layout(path)
        if op == "fdata":
            label, floor = "astype pass", floors.astype_pass(path, offset, dtype, shape)
        else:
            label, floor = "fromfile", floors.fromfile(path, offset, dtype, shape)
        pair, floor_stats = _read_pair(path, op, cfg, floor, mmap=mmap)
        res = Result("", "", "", pair=pair)
        res.add_floor(label, floor_stats)
        return res


_register_nii_reads()


@case("nii-read-fdata32", "read a scaled int16 .nii: get_fdata(dtype=float32), mmap",
      "<= 1.2x NiBabel (correctly rounded)")
def nii_read_fdata32(data: Data, cfg: Config) -> Result:
    """float32 reads are rounded once from the float64 values (issue 11): what it costs."""
    source = data["t1_float32"]
    path = os.path.join(os.path.dirname(source.path("nibabel", ".nii.gz")), "t1_scaled.nib.nii")
    if not os.path.exists(path):
        import nibabel

        img = nibabel.Nifti1Image(source.data, source.affine)
        img.set_data_dtype(np.int16)  # NiBabel picks a slope and intercept
        nibabel.save(img, path)
    libs.voxelio_format(".nii")

    def read32(lib: str) -> Callable[[], np.ndarray]:
        return lambda: libs.load(lib, path).get_fdata(dtype=np.float32)

    float32_bytes = 4 * int(np.prod(_layout(path)[2]))
    warm = memwarm.warmer(2 * float32_bytes) if cfg.warm_memory else None
    pair = timing.alternate(read32("voxelio"), read32("nibabel"), cfg.repeats, cfg.warmup,
                            cfg.budget, before=warm)
    res = Result("", "", "", pair=pair, checks=[Check("vs NiBabel", pair.ratio, 1.2)])
    twice = timing.repeat(lambda: libs.load("voxelio", path).get_fdata().astype(np.float32),
                          cfg.repeats, cfg.warmup, cfg.budget, before=warm)
    res.add_floor("voxelio get_fdata().astype(float32)", twice, judge=False)
    ours = libs.load("voxelio", path)
    res.notes["equals_float64_rounded"] = bool(np.array_equal(
        ours.get_fdata(dtype=np.float32), ours.get_fdata().astype(np.float32)))
    return res


# -- whole process and memory -----------------------------------------------------------


@case("process-tiny", 'python -c "import X; X.load(tiny).get_fdata()"', "<= 0.6")
def process_tiny(data: Data, cfg: Config) -> Result:
    path = data["tiny_int16"].path("nibabel", ".nii")
    libs.voxelio_format(".nii")
    python, where = _process_python(cfg)
    pair, floor = process.compare(path, cfg.process_repeats, cfg.warmup, python=python)
    res = Result("", "", "", pair=pair, checks=[Check("vs NiBabel", pair.ratio, 0.6)],
                 notes={"interpreter": where})
    res.add_floor("python + import numpy", floor, judge=False)
    return res


def _process_python(cfg: Config) -> tuple[str, str]:
    """The interpreter of the start-up case and where it comes from (see uservenv)."""
    if not cfg.user_venv:
        return sys.executable, "the running interpreter"
    import uservenv

    cache_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")
    try:
        return uservenv.python(cache_dir), "a virtualenv of regular installs (uservenv.py)"
    except RuntimeError as exc:
        print(f"process-tiny: no regular-install virtualenv, using this interpreter: {exc}")
        return sys.executable, "the running interpreter (the regular-install virtualenv failed)"


def _register_memory() -> None:
    for writer in ("nibabel", "voxelio"):
        _register_memory_case(writer)


def _register_memory_case(writer: str) -> None:
    short = "nib" if writer == "nibabel" else "vx"

    @case(f"memory-fdata-{short}", f"peak memory, get_fdata() of fMRI .nii.gz by {writer}",
          "extra <= 1.10x output")
    def run(data: Data, cfg: Config) -> Result:
        path = data["fmri_int16"].path(writer, ".nii.gz")
        libs.voxelio_format(".nii.gz")
        runs: dict[str, list[dict[str, float]]] = {"voxelio": [], "nibabel": []}
        for _ in range(cfg.memory_repeats):
            for lib in runs:
                runs[lib].append(memory.peak_extra(lib, path))
        pair = timing.pair_of([r["extra"] for r in runs["voxelio"]],
                              [r["extra"] for r in runs["nibabel"]])
        output = runs["voxelio"][0]["output"]
        vx_over = pair.voxelio.median / output
        return Result("", "", "", unit="bytes", pair=pair,
                      checks=[Check("extra/output", vx_over, 1.10)],
                      notes={"output_bytes": output, "voxelio_extra_over_output": vx_over,
                             "nibabel_extra_over_output": pair.nibabel.median / output})


_register_memory()


# -- the access patterns of issue 14 -----------------------------------------------------


#: volumes read after a first read of volume 10, in this order (of 400; scaled for fewer)
RANDOM_ORDER = (390, 50, 300, 120, 250, 5, 333, 391)


@case("vol4d-random-nib", "fMRI .nii.gz by nibabel: volumes 390, 50, 300, 120, 250, 5, 333, "
      "391 after a first read of volume 10, same image", "<= 3 ms median, none over 20 ms")
def random_volumes(data: Data, cfg: Config) -> Result:
    ds = data["fmri_int16"]
    path = ds.path("nibabel", ".nii.gz")
    libs.voxelio_format(".nii.gz")
    n = ds.data.shape[3]
    first, order = 10 * n // 400, [k * n // 400 for k in RANDOM_ORDER]
    times: dict[str, list[float]] = {"voxelio": [], "nibabel": []}
    firsts: dict[str, list[float]] = {"voxelio": [], "nibabel": []}
    for _ in range(max(1, cfg.further_volumes // 2)):
        for lib in times:
            img = libs.load(lib, path)
            firsts[lib].append(timing.clock(lambda img=img: np.asarray(img.dataobj[..., first])))
            for k in order:
                times[lib].append(timing.clock(
                    lambda img=img, k=k: np.asarray(img.dataobj[..., k])))
            del img
    pair = timing.pair_of(times["voxelio"], times["nibabel"])
    ms = pair.voxelio.median * 1e3
    worst = max(times["voxelio"]) * 1e3
    return Result("", "", "", pair=pair,
                  checks=[Check("median ms", ms, 3.0), Check("max ms", worst, 20.0)],
                  notes={"volumes": order, "first_volume": first,
                         "first_read_ms": {k: [t * 1e3 for t in v] for k, v in firsts.items()},
                         "voxelio_ms": [t * 1e3 for t in times["voxelio"]]})


SMALL_SHAPE = (32, 32, 16)


def _small_files(data: Data, count: int) -> list[str]:
    """``count`` small int16 .nii.gz files written by NiBabel (made once, in the cache)."""
    folder = os.path.join(os.path.dirname(data["tiny_int16"].path("nibabel", ".nii")),
                          "small")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        path = os.path.join(folder, f"small{i:03d}.nib.nii.gz")
        if not os.path.exists(path):
            arr = rng.integers(0, 1000, SMALL_SHAPE, dtype=np.int16)
            libs.save("nibabel", libs.make_image("nibabel", arr, np.eye(4), ".nii.gz"), path)
        paths.append(path)
    return paths


@case("small-files", "200 small .nii.gz (32x32x16 int16) by nibabel: load + get_fdata each",
      "<= 0.7")
def small_files(data: Data, cfg: Config) -> Result:
    libs.voxelio_format(".nii.gz")
    count = 200 if cfg.budget else 20
    paths = _small_files(data, count)

    def loop(lib: str) -> Callable[[], None]:
        def run() -> None:
            for path in paths:
                libs.load(lib, path).get_fdata()
        return run

    pair = _alternate(loop("voxelio"), loop("nibabel"), cfg)
    return Result("", "", "", pair=pair, checks=[Check("vs NiBabel", pair.ratio, 0.7)],
                  notes={"files": count, "voxelio_ms_per_file": pair.voxelio.median / count * 1e3})


#: cases run again with VOXELIO_STDLIB_CODECS=1 (the rows of issue 14's table)
STDLIB_CASES = ("read-nib-t1_int16", "read-vx-", "save-t1_int16.nii.gz", "vol4d-",
                "small-files", "process-tiny")


def runs_in_stdlib_mode(case_id: str) -> bool:
    """True for the cases `make bench` repeats with standard-library codecs only."""
    return case_id.startswith(STDLIB_CASES)
