"""A fuzz worker: reads cases, one JSON line each on stdin, answers one JSON line each.

Run by :mod:`fuzz_pool` as ``python fuzz_worker.py MEMORY_MB``. After
importing voxelio and the plugins it caps its own address space at what
it uses plus ``MEMORY_MB`` (``RLIMIT_AS``), so an unbounded allocation
becomes a MemoryError here instead of trouble for the machine. The
parent enforces the time limit (it kills a worker that does not answer).

A case is ``{"key", "mode", "path", "klass", "access"}``; the answer is
``{"key", "outcome", "detail"}`` with outcome ``ok`` (loaded and read),
``voxelio-error`` (a VoxelioError), ``memory`` (MemoryError) or
``other-error`` (any other exception, with its traceback).

``access`` says how a ``load`` case reaches its file:

``path``     ``voxelio.sniff`` and ``voxelio.load`` on the file name
``fileobj``  ``voxelio.load`` on an open binary file object
``url``      ``voxelio.load`` on a ``memory://`` URL (fsspec's in-memory
             file system holds the case's files: the remote read path)
``cli``      ``voxelio info -v`` and ``voxelio check`` in this process,
             with ``--debug`` so that any exception reaches the classifier

Whatever loads is then read (:func:`_exercise`): the whole array, random
index tuples on ``dataobj`` (each must equal the same index of the whole
array, and on a file whose full read fails each must read or fail with a
voxelio error too), every ``get_*`` method of the header that takes no
argument, ``as_closest_canonical`` (its indices equal the reoriented whole
array's) and ``img.slicer`` (its data equal the same index of the whole
array), ``get_fdata`` and its cache, a save to bytes and, for
some cases loaded by name, a save over an existing file of the same kind:
what it writes must load back with the same shape (integer data equal),
and a save that fails must leave the old file as it was and no files
behind.

With the environment variable ``VOXELIO_FUZZ_COVERAGE`` set to a data
file name, the worker measures line and branch coverage of voxelio and
its first-party plugins (``coverage`` must be installed) and saves it
every few cases and at the end (``fuzz.py --coverage``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import traceback
import warnings

#: images whose data take more than this are read in part only: a large
#: image the file really holds is not a finding, only the parsers are
READ_ALL_LIMIT = 32 << 20
#: random index tuples tried on each loaded image's dataobj
SLICES_PER_IMAGE = 6
COVERAGE_ENV = "VOXELIO_FUZZ_COVERAGE"
#: the packages whose coverage a campaign measures
COVERED = ["voxelio", "voxelio_nifti1", "voxelio_nifti2", "voxelio_analyze", "voxelio_mgh"]


class SliceMismatchError(AssertionError):
    """A dataobj index read something else than the same index of the whole array."""


def _random_index(rng: random.Random, shape: tuple[int, ...], small: bool) -> tuple:
    """A valid numpy basic index for ``shape`` (ints, slices with steps, Ellipsis, None).

    ``small`` keeps the selection to one line at most (for images too
    large to read whole).
    """
    items: list = []
    for axis, n in enumerate(shape):
        last = axis == len(shape) - 1
        if small and not last:
            items.append(rng.randrange(-n, n))
            continue
        kind = rng.choice(["int", "slice", "full", "step"])
        if kind == "int":
            items.append(rng.randrange(-n, n))
        elif kind == "full":
            items.append(slice(None))
        else:
            start = rng.choice([None, rng.randrange(-n - 2, n + 2)])
            stop = rng.choice([None, rng.randrange(-n - 2, n + 2)])
            step = rng.choice([None, 1, 2, 3, -1, -2]) if kind == "step" else None
            items.append(slice(start, stop, step))
    if small and shape:
        n = shape[-1]
        start = rng.randrange(n)
        items[-1] = slice(start, min(n, start + rng.randint(1, 64)))
    if not small and items and rng.random() < 0.3:
        cut = rng.randrange(len(items) + 1)
        items = [*items[:cut], Ellipsis, *items[cut + rng.randint(0, len(items) - cut):]]
    if rng.random() < 0.15:
        items.insert(rng.randrange(len(items) + 1), None)
    return tuple(items)


def _same(a, b) -> bool:
    import numpy as np

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _check_slices(proxy, shape: tuple[int, ...], whole, rng: random.Random, small: bool) -> None:
    """Random indices of ``proxy``: equal to ``whole[index]`` when the whole array was read."""
    import numpy as np

    from voxelio.errors import VoxelioError

    for _ in range(SLICES_PER_IMAGE):
        index = _random_index(rng, shape, small)
        try:
            part = np.asarray(proxy[index])
        except VoxelioError:
            if whole is not None:  # the whole array read, so every part of it must too
                raise
            continue
        if whole is not None and not _same(part, np.asarray(whole[index])):
            raise SliceMismatchError(f"dataobj[{index!r}] differs from np.asarray(dataobj)[...]")


class SaveDamageError(AssertionError):
    """A save failed and the file it was to replace changed, or what it wrote does not load."""


#: what the file a resave targets holds before (a failed save must leave it so)
OLD_CONTENT = b"the file a failed save must leave as it was\n"


def _save_to_file(img, whole, path: str) -> None:
    """Save ``img`` over an existing file: it loads back, or the old file is untouched."""
    import numpy as np

    import voxelio as vx
    from voxelio.errors import VoxelioError

    folder = os.path.dirname(path)
    before = set(os.listdir(folder))
    with open(path, "wb") as f:
        f.write(OLD_CONTENT)
    try:
        vx.save(img, path)
    except VoxelioError:
        with open(path, "rb") as f:
            if f.read() != OLD_CONTENT:
                raise SaveDamageError(f"a failed save changed {path}") from None
        left = set(os.listdir(folder)) - before - {os.path.basename(path)}
        if left:
            raise SaveDamageError(f"a failed save left {sorted(left)} behind") from None
        raise
    again = vx.load(path)
    if tuple(again.shape) != tuple(img.shape):
        raise SaveDamageError(f"saved shape {img.shape}, read back {again.shape}")
    back = np.asarray(again.dataobj)
    if (whole is not None and whole.dtype == back.dtype and whole.dtype.kind in "iu"
            and not np.array_equal(back, whole)):
        raise SaveDamageError("the saved integer data read back differently")


def _header_getters(header) -> None:
    """Every public ``get_*`` method of the header that needs no argument (voxelio errors ok)."""
    import inspect

    from voxelio.errors import VoxelioError

    for name in sorted(dir(header)):
        if not name.startswith("get_"):
            continue
        method = getattr(header, name)
        try:
            params = inspect.signature(method).parameters.values()
        except (TypeError, ValueError):
            continue
        if any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params):
            continue
        with contextlib.suppress(VoxelioError):
            method()
    header.copy() == header  # noqa: B015 - comparing runs the header's __eq__


def _reoriented(img, whole, rng: random.Random) -> None:
    """The closest canonical view: its indices equal the reoriented whole array's."""
    import numpy as np

    from voxelio.errors import VoxelioError
    from voxelio.orientation import apply_orientation, as_closest_canonical, io_orientation

    try:
        canonical = as_closest_canonical(img)
    except VoxelioError:
        return
    if canonical is img:
        return
    expected = apply_orientation(whole, io_orientation(img.affine))
    shape = tuple(int(n) for n in canonical.shape)
    for _ in range(2):
        index = _random_index(rng, shape, small=False)
        if not _same(np.asarray(canonical.dataobj[index]), np.asarray(expected[index])):
            raise SliceMismatchError(f"canonical dataobj[{index!r}] differs from the "
                                     "reoriented whole array")


def _sliced(img, whole, rng: random.Random) -> None:
    """``img.slicer`` with a random index of slices: the data of the same index."""
    import numpy as np

    from voxelio.errors import VoxelioError

    index = []
    for n in img.shape:
        start = rng.randrange(n)
        stop = rng.randrange(start + 1, n + 1)
        index.append(rng.choice([slice(start, stop), slice(start, stop, rng.randint(1, 3)),
                                 slice(None, None, -1), slice(None)]))
    index = tuple(index)
    try:
        sub = img.slicer[index]
    except (IndexError, VoxelioError):  # an empty result or a refused index: said so
        return
    if not _same(np.asarray(sub.dataobj), np.asarray(whole[index])):
        raise SliceMismatchError(f"img.slicer[{index!r}] holds other data than dataobj[...]")


def _exercise(img, rng: random.Random, resave: str | None = None) -> None:
    import numpy as np

    from voxelio.errors import VoxelioError

    _ = img.shape, img.affine, img.header.get_data_dtype(), str(img.header)
    _header_getters(img.header)
    proxy = img.dataobj
    shape = tuple(int(n) for n in img.shape)
    nbytes = int(getattr(proxy, "nbytes", 0))
    if not all(shape):
        whole = np.asarray(proxy)
        if resave:
            _save_to_file(img, whole, resave)
        return
    if nbytes > READ_ALL_LIMIT:
        _check_slices(proxy, shape, None, rng, small=True)
        return
    try:
        whole = np.asarray(proxy)
    except VoxelioError:
        # reading only parts of a file whose whole read fails must fail as cleanly
        _check_slices(proxy, shape, None, rng, small=False)
        raise
    _check_slices(proxy, shape, whole, rng, small=False)
    if len(shape) >= 3:
        proxy[:, :, shape[2] // 2]
        if img.affine is not None:
            _reoriented(img, whole, rng)
            _sliced(img, whole, rng)
    if whole.dtype.fields is None:
        fdata = img.get_fdata()
        if fdata is not img.get_fdata() or fdata.shape != shape:
            raise AssertionError("get_fdata's cache did not return the same array")
        img.uncache()
        img.get_fdata(caching="unchanged", dtype=np.float32)
    # what was loaded can be saved again (in memory), or says why not
    type(img).from_bytes(img.to_bytes())
    if resave:
        _save_to_file(img, whole, resave)


def _load_memory_url(case: dict):
    """Copy the case's files into fsspec's memory file system and load them by URL."""
    import fsspec

    import voxelio as vx

    fs = fsspec.filesystem("memory")
    folder = os.path.dirname(case["path"])
    root = f"/fuzz/{case['key'].replace(':', '-')}"
    try:
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as f:
                fs.pipe_file(f"{root}/{name}", f.read())
        return vx.load(f"memory://{root}/{os.path.basename(case['path'])}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            fs.rm(root, recursive=True)


def _run_cli(path: str) -> None:
    """``voxelio info -v`` and ``voxelio check`` on the file; every exception propagates."""
    from voxelio import cli

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for argv in (["info", "-v", "--debug", path], ["check", "--debug", path]):
            status = cli.main(argv)
            if status not in (cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_WARNINGS):
                raise AssertionError(f"voxelio {argv[0]} exited {status}: {sink.getvalue()}")


def _load(case: dict, stack: contextlib.ExitStack):
    import voxelio as vx

    access = case.get("access", "path")
    if case["mode"] == "bytes":
        from voxelio.registry.spec import resolve_ref

        with open(case["path"], "rb") as f:
            return resolve_ref(case["klass"]).from_bytes(f.read())
    if access == "fileobj":  # the file stays open while the image is read
        f = stack.enter_context(open(case["path"], "rb"))  # noqa: SIM115
        return vx.load(io.BytesIO(f.read()) if case["key"][-1] in "02468" else f)
    if access == "url":
        return _load_memory_url(case)
    if access == "cli":
        _run_cli(case["path"])
    vx.sniff(case["path"])
    return vx.load(case["path"])


def _resave_target(case: dict, rng: random.Random) -> str | None:
    """For some cases loaded by name: a file to save the image to (its name, compression kept)."""
    if case["mode"] != "load" or case.get("access", "path") != "path" or rng.random() > 0.3:
        return None
    name = os.path.basename(case["path"])
    return os.path.join(os.path.dirname(case["path"]), "resaved" + name[name.index("."):])


def run_case(case: dict) -> dict:
    from voxelio.errors import VoxelioError

    rng = random.Random(f"exercise:{case['key']}")
    try:
        with warnings.catch_warnings(), contextlib.ExitStack() as stack:
            warnings.simplefilter("ignore")
            img = _load(case, stack)
            _exercise(img, rng, _resave_target(case, rng))
            del img
        return {"key": case["key"], "outcome": "ok", "detail": ""}
    except VoxelioError as err:
        return {"key": case["key"], "outcome": "voxelio-error",
                "detail": f"{type(err).__name__}: {str(err)[:300]}"}
    except MemoryError:
        return {"key": case["key"], "outcome": "memory", "detail": traceback.format_exc()[-3000:]}
    except Exception as err:  # the point is to catch everything else
        return {"key": case["key"], "outcome": "other-error",
                "detail": f"{type(err).__name__}: {err}\n{traceback.format_exc()[-3000:]}"}


def _cap_memory(extra_mb: int) -> None:
    import resource

    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = used + extra_mb * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _start_coverage():
    """A running coverage measurement when ``VOXELIO_FUZZ_COVERAGE`` names a data file."""
    data_file = os.environ.get(COVERAGE_ENV)
    if not data_file:
        return None
    import coverage

    cov = coverage.Coverage(data_file=data_file, data_suffix=True, branch=True,
                            source_pkgs=COVERED)
    cov.start()
    return cov


def main() -> int:
    extra_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing a parser prints may corrupt the answers
    cov = _start_coverage()
    import numpy  # noqa: F401 - imported before the cap: counted in the baseline

    import voxelio as vx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vx.formats()  # discovery and plugin imports, before the cap
    with contextlib.suppress(ImportError):  # fsspec: 'url' cases; imported before the cap
        import fsspec.implementations.memory  # noqa: F401

    if sys.platform.startswith("linux"):
        _cap_memory(extra_mb)
    answers.write(json.dumps({"ready": True}) + "\n")
    for count, line in enumerate(sys.stdin, 1):
        answer = run_case(json.loads(line))
        if cov is not None and count % 25 == 0:
            cov.save()  # a worker killed on a timeout keeps what it measured before
        answers.write(json.dumps(answer) + "\n")
    if cov is not None:
        cov.stop()
        cov.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
