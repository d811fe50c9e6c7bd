"""Lazy dask arrays over voxelio images: to_dask, stack, and a real 2-process LocalCluster."""

from __future__ import annotations

import gzip
import pickle
import shutil
import sys

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageDataError, ImageFileError

da = pytest.importorskip("dask.array")

SHAPE = (24, 20, 16, 30)


def _data(seed=0, shape=SHAPE):
    return np.random.default_rng(seed).integers(-500, 500, shape).astype(np.int16)


def _save_kinds(tmp_path, data, scaled=True):
    """The same image as plain .nii, blocked gzip (voxelio's) and one gzip stream."""
    img = vx.Nifti1Image(data, np.diag([2.0, 2.0, 2.5, 1.0]))
    if scaled:
        img.header.set_slope_inter(0.5, 10.0)
    paths = {"plain": tmp_path / "p.nii", "blocked": tmp_path / "b.nii.gz",
             "stream": tmp_path / "s.nii.gz"}
    vx.save(img, paths["plain"])
    vx.save(img, paths["blocked"])
    with open(paths["plain"], "rb") as src, gzip.open(paths["stream"], "wb", 1) as dst:
        shutil.copyfileobj(src, dst)
    return paths


@pytest.mark.parametrize("kind", ["plain", "blocked", "stream"])
def test_to_dask_scaled_values_dtype_and_storage_chunks(tmp_path, kind):
    from voxelio.integrations.dask import RANDOM, STREAM, storage_kind

    data = _data()
    paths = _save_kinds(tmp_path, data)
    img = vx.load(paths[kind])
    arr = img.to_dask()
    assert arr.dtype == np.float64 == img.dataobj.scaled_dtype  # never truncated to int16
    # default chunks: whole volumes (the slowest axis), nothing else split
    assert arr.chunks[:3] == tuple((n,) for n in SHAPE[:3])
    assert storage_kind(img.dataobj) == (STREAM if kind == "stream" else RANDOM)
    expected = data * 0.5 + 10.0
    assert np.array_equal(arr.compute(), expected)
    small = vx.to_dask(img, chunks=(12, 20, 16, 7))
    assert small.chunks[-1] == (7, 7, 7, 7, 2)
    assert np.array_equal(small[5:17, :, 3, 11:20].compute(), expected[5:17, :, 3, 11:20])
    assert np.allclose(small.mean(axis=-1).compute(), expected.mean(axis=-1))


def test_to_dask_unscaled_keeps_stored_dtype_and_names_work(tmp_path):
    data = _data()
    paths = _save_kinds(tmp_path, data, scaled=False)
    arr = vx.to_dask(str(paths["blocked"]))
    assert arr.dtype == np.int16
    assert np.array_equal(arr.compute(), data)
    assert vx.to_dask(vx.load(paths["plain"]), dtype=np.float32).dtype == np.float32


def test_to_dask_reads_no_data_at_construction(tmp_path):
    data = _data()
    paths = _save_kinds(tmp_path, data)
    for kind in ("plain", "blocked", "stream"):
        img = vx.load(paths[kind])
        raw = paths[kind].read_bytes()
        paths[kind].write_bytes(raw[: len(raw) // 3])  # the data are cut short after loading
        arr = img.to_dask()  # builds: only the first header bytes were looked at
        with pytest.raises(ImageFileError):
            arr.compute()


def test_dask_graph_pickles_cheaply(tmp_path):
    data = _data(shape=(64, 64, 40, 60))
    paths = _save_kinds(tmp_path, data)
    for kind in ("blocked", "stream"):
        arr = vx.load(paths[kind]).to_dask(chunks=(64, 64, 40, 1))
        blob = pickle.dumps(dict(arr.__dask_graph__()))
        assert len(blob) < 40_000, len(blob)  # names and offsets, not 19 MB of data
        assert np.array_equal(pickle.loads(pickle.dumps(arr))[..., 7].compute(),
                              data[..., 7] * 0.5 + 10.0)


def test_stack_glob_and_list_lazily(tmp_path):
    vols = [_data(seed=s, shape=SHAPE[:3]) for s in range(4)]
    for i, vol in enumerate(vols):
        vx.save(vx.Nifti1Image(vol, np.eye(4)), tmp_path / f"sub-{i:02d}.nii.gz")
    arr = vx.stack(str(tmp_path / "sub-*.nii.gz"))
    assert arr.shape == (*SHAPE[:3], 4)
    assert np.array_equal(arr.compute(), np.stack(vols, axis=-1))
    first = vx.stack([tmp_path / "sub-01.nii.gz", tmp_path / "sub-03.nii.gz"], axis=0)
    assert np.array_equal(first.compute(), np.stack([vols[1], vols[3]]))
    series = vx.stack([tmp_path / "sub-00.nii.gz"] * 2, axis=None)  # concatenated
    assert series.shape == (*SHAPE[:2], SHAPE[2] * 2)
    # nothing read: a file whose data are cut short fails only when computed
    raw = (tmp_path / "sub-02.nii.gz").read_bytes()
    lazy = vx.stack(str(tmp_path / "sub-*.nii.gz"))
    (tmp_path / "sub-02.nii.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ImageFileError):
        lazy.compute()


def test_stack_names_the_first_differing_file(tmp_path):
    base = _data(shape=SHAPE[:3])
    vx.save(vx.Nifti1Image(base, np.eye(4)), tmp_path / "a.nii")
    vx.save(vx.Nifti1Image(base, np.eye(4)), tmp_path / "b.nii")
    vx.save(vx.Nifti1Image(base[:-1], np.eye(4)), tmp_path / "c.nii")
    shifted = np.eye(4)
    shifted[0, 3] = 1e-3
    vx.save(vx.Nifti1Image(base, shifted), tmp_path / "d.nii")
    with pytest.raises(ImageDataError, match=r"c\.nii.*shape.*a\.nii"):
        vx.stack([tmp_path / n for n in ("a.nii", "b.nii", "c.nii")])
    with pytest.raises(ImageDataError, match=r"d\.nii.*affine.*a\.nii"):
        vx.stack([tmp_path / n for n in ("a.nii", "b.nii", "d.nii")])
    ok = vx.stack([tmp_path / n for n in ("a.nii", "d.nii")], atol=1e-2)
    assert ok.shape[-1] == 2
    with pytest.raises(FileNotFoundError):
        vx.stack(str(tmp_path / "none-*.nii"))


# -- distributed ---------------------------------------------------------------------------
def count_inflated():
    """Installed in each worker: counts decompressed bytes produced by voxelio's codecs."""
    from voxelio.codecs import gzip_reader, seek_index, sources

    counter = sys.modules.setdefault("voxelio_test_inflate_count", type(sys)("count"))
    counter.total = 0
    if getattr(seek_index.StreamSource, "_counted", False):
        return 0
    produce, inflate = seek_index.StreamSource._produce, sources.BlockedGzipSource._inflate
    inflate_into = sources.BlockedGzipSource._inflate_into
    fill, skip = gzip_reader.fill, gzip_reader.skip

    def counted_produce(self, st, max_out):
        out = produce(self, st, max_out)
        counter.total += len(out)
        return out

    def counted_inflate(self, k, data):
        out = inflate(self, k, data)
        counter.total += len(out)
        return out

    def counted_inflate_into(self, k, data, out):  # members inflated straight into the read
        n = inflate_into(self, k, data, out)
        counter.total += n
        return n

    def counted_fill(reader, out):  # ISA-L's gzip reader, straight into the read's buffer
        n = fill(reader, out)
        counter.total += n
        return n

    def counted_skip(reader, nbytes):
        n = skip(reader, nbytes)
        counter.total += n
        return n

    gzip_reader.fill, gzip_reader.skip = counted_fill, counted_skip
    seek_index.StreamSource._produce = counted_produce
    sources.BlockedGzipSource._inflate = counted_inflate
    sources.BlockedGzipSource._inflate_into = counted_inflate_into
    seek_index.StreamSource._counted = True
    return 0


def inflated_so_far():
    return sys.modules["voxelio_test_inflate_count"].total


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, scheduler_port=0,
                                  host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        client.run(count_inflated)
        yield client


@pytest.mark.parametrize("volumes", [4, 20])  # chunks of 1.3 MB, and of 6.6 MB (ISA-L's reader)
def test_distributed_single_stream_chunks_inflate_each_byte_once(tmp_path, cluster_client,
                                                                 volumes):
    data = _data(shape=(64, 64, 40, 40))
    img = vx.load(_save_kinds(tmp_path, data)["stream"])
    arr = img.to_dask(chunks=(64, 64, 40, volumes))
    assert not any(str(k[0]).startswith("inflate-") for k in arr.__dask_graph__())
    cluster_client.run(count_inflated)
    mean = cluster_client.compute(arr.mean(axis=-1)).result()
    assert np.allclose(mean, (data * 0.5 + 10.0).mean(axis=-1))
    per_worker = sorted(cluster_client.run(inflated_so_far).values())
    stored = img.dataobj.nbytes + img.dataobj.offset
    # read in turn by one worker, each chunk going on where the last stopped
    assert per_worker[0] == 0
    assert stored <= per_worker[1] <= stored + (256 << 10), (per_worker, stored)


def _largest_result(arr):
    """The most bytes any task's result held, summing ``arr`` in this thread."""
    from dask.callbacks import Callback

    largest = [0]

    def posttask(key, result, dsk, state, worker_id):
        arrays = result if isinstance(result, tuple) else (result,)
        held = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
        largest[0] = max(largest[0], held)

    with Callback(posttask=posttask):
        arr.sum().compute(scheduler="sync")
    return largest[0]


def test_single_stream_chunks_hold_a_chunk_not_the_file(tmp_path):
    data = _data(shape=(64, 64, 40, 40))
    img = vx.load(_save_kinds(tmp_path, data)["stream"])
    chunk_bytes = 64 * 64 * 40 * 4 * 8  # four volumes, as float64
    # runs of the stream (whole volumes, or parts of one volume): read in turn
    assert _largest_result(img.to_dask(chunks=(64, 64, 40, 4))) == chunk_bytes
    assert _largest_result(img.to_dask(chunks=(64, 64, 10, 1))) == chunk_bytes // 16
    # chunks that interleave in the stream: one task inflates it all, then chunks are cut
    interleaved = img.to_dask(chunks=(32, 64, 40, 40))
    assert any(str(k[0]).startswith("inflate-") for k in interleaved.__dask_graph__())
    assert _largest_result(interleaved) >= data.nbytes
    assert np.array_equal(interleaved.compute(), data * 0.5 + 10.0)


@pytest.mark.parametrize("kind", ["stream", "blocked"])
def test_distributed_full_pass_inflates_the_file_about_once(tmp_path, cluster_client, kind):
    data = _data(shape=(64, 64, 40, 40))
    paths = _save_kinds(tmp_path, data)
    img = vx.load(paths[kind])
    arr = img.to_dask(chunks=(64, 64, 40, 4))  # 10 chunks over two worker processes
    cluster_client.run(count_inflated)
    mean = cluster_client.compute(arr.mean(axis=-1)).result()
    assert np.allclose(mean, (data * 0.5 + 10.0).mean(axis=-1))
    per_worker = cluster_client.run(inflated_so_far)
    total = sum(per_worker.values())
    stored = img.dataobj.nbytes + img.dataobj.offset
    print(f"\n{kind}: inflated {total} bytes across workers for {stored} bytes ({per_worker})")
    assert 0.9 * stored <= total <= 1.5 * stored, (total, stored)


def _threads_named(prefix):
    import threading

    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_stack_raises_the_first_failure_in_input_order(tmp_path):
    base = _data(shape=SHAPE[:3])
    names = [f"v{i:02d}.nii.gz" for i in range(30)]
    for name in names:
        vx.save(vx.Nifti1Image(base, np.eye(4)), tmp_path / name)
    paths = [tmp_path / n for n in names]
    (tmp_path / names[25]).unlink()  # a later file is missing...
    (tmp_path / names[9]).write_bytes(b"\x1f\x8b" + b"not gzip" * 50)  # ...an earlier is broken
    vx.save(vx.Nifti1Image(base[:-1], np.eye(4)), tmp_path / names[17])
    for workers in (1, 4, 16):
        with pytest.raises(ImageFileError, match=names[9]):
            vx.stack(paths, max_workers=workers)
    vx.save(vx.Nifti1Image(base, np.eye(4)), tmp_path / names[9])
    with pytest.raises(ImageDataError, match=rf"{names[17]}.*shape"):
        vx.stack(paths)  # a shape differing comes before the missing file
    vx.save(vx.Nifti1Image(base, np.eye(4)), tmp_path / names[17])
    with pytest.raises(FileNotFoundError, match=names[25]):
        vx.stack(paths)
    assert not _threads_named("voxelio-stack")  # the pool is gone after a failure


def test_stack_reads_headers_on_threads_and_keeps_the_order(tmp_path):
    import threading

    from voxelio.integrations import dask as vxdask

    vols = [_data(seed=s, shape=(6, 5, 4)) for s in range(20)]
    paths = []
    for i, vol in enumerate(vols):
        paths.append(tmp_path / f"o{i:02d}.nii.gz")
        vx.save(vx.Nifti1Image(vol, np.eye(4)), paths[-1])
    seen = []
    opened = vxdask._opened

    def recording(item, storage_options):  # which thread read which header
        seen.append(threading.current_thread().name)
        return opened(item, storage_options)

    vxdask._opened = recording
    try:
        arr = vx.stack(paths, axis=0, max_workers=3)
    finally:
        vxdask._opened = opened
    assert np.array_equal(arr.compute(), np.stack(vols))
    assert seen[0] == threading.current_thread().name  # the first file, before any thread
    assert {name for name in seen[1:]} <= {f"voxelio-stack_{i}" for i in range(3)}
    assert np.array_equal(vx.stack(paths, max_workers=1).compute(), np.stack(vols, axis=-1))
    assert not _threads_named("voxelio-stack")
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="max_workers"):
            vx.stack(paths, max_workers=bad)
