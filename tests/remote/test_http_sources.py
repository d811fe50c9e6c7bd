"""load over http:// and https:// from a server the tests start on 127.0.0.1 (fsspec's HTTP
filesystem): every file kind, lazy ranged reads, small files in one request, clear errors."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import os
import shutil
import socket
import ssl

import numpy as np
import pytest

import voxelio as vx
from voxelio.errors import ImageFileError
from voxelio.sources import WHOLE_FETCH_MAX

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")  # fsspec's HTTP filesystem runs on it

SHAPE = (64, 64, 40, 10)
AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2.0, 0, -126], [0, 0, 2.5, -72], [0, 0, 0, 1]])


def _data(shape=SHAPE):
    rng = np.random.default_rng(7)
    smooth = (np.indices(shape[:3]).sum(axis=0) * 7).astype(np.int16)
    return (smooth[..., None] if len(shape) == 4 else smooth) + rng.integers(
        0, 40, shape, dtype=np.int16)


@pytest.fixture
def served(http_files):
    """The same scaled image as every file kind, in the server's folder."""
    data = _data()
    img = vx.Nifti1Image(data, AFFINE)
    img.header.set_slope_inter(0.5, -3.0)
    root = http_files.root
    for name in ("a.nii", "a.nii.gz", "a.mgz", "p.img"):
        vx.save(img, f"{root}/{name}")
    # one gzip stream, as most other tools write (not voxelio's blocked gzip)
    with open(f"{root}/a.nii", "rb") as src, gzip.open(f"{root}/stream.nii.gz", "wb", 1) as dst:
        shutil.copyfileobj(src, dst)
    return http_files, data * 0.5 - 3.0


@pytest.mark.parametrize("name", ["a.nii", "a.nii.gz", "stream.nii.gz", "a.mgz",
                                  "p.img", "p.hdr"])
def test_every_file_kind_loads_over_http_like_the_local_file(served, name):
    server, expected = served
    local = vx.load(f"{server.root}/{name}")
    remote = vx.load(f"{server.url}/{name}")
    assert type(remote) is type(local)
    assert remote.shape == SHAPE
    assert np.allclose(remote.affine, local.affine)
    assert remote.header.binaryblock == local.header.binaryblock
    assert not remote.in_memory  # lazy: a proxy over the remote file
    values = local.get_fdata()
    if name.startswith(("a.nii", "stream")):  # the header's scaling kept, as NiBabel does
        assert np.allclose(values, expected)
    assert np.array_equal(np.asarray(remote.dataobj[..., 4]), values[..., 4])
    assert np.array_equal(remote.get_fdata(), values)


@pytest.mark.parametrize("name", ["a.nii", "p.img"])
def test_one_volume_of_an_uncompressed_file_fetches_about_that_volume(served, name):
    server, _ = served
    img = vx.load(f"{server.url}/{name}")
    server.reset()
    vol = np.asarray(img.dataobj[..., 6])
    sent = server.settled().sent
    volume_bytes = int(np.prod(SHAPE[:3])) * 2
    assert np.array_equal(vol, np.asarray(vx.load(f"{server.root}/{name}").dataobj[..., 6]))
    # the volume's bytes and little else: a tenth of the file
    assert volume_bytes <= sent <= volume_bytes + 4096, sent
    assert all(method == "GET" and byte_range for method, _, byte_range in server.requests)


def test_loading_reads_headers_not_data(served):
    server, _ = served
    server.reset()
    vx.load(f"{server.url}/a.nii")
    assert server.settled().sent < 4096  # header reads only: no GET of the whole file
    assert [m for m, _, _ in server.requests].count("HEAD") == 1  # the size, looked up once


def test_a_small_file_is_fetched_whole_in_one_request(http_files):
    data = _data((16, 16, 16))
    vx.save(vx.Nifti1Image(data, AFFINE), f"{http_files.root}/small.nii.gz")
    size = os.path.getsize(f"{http_files.root}/small.nii.gz")
    assert size <= WHOLE_FETCH_MAX
    http_files.reset()
    img = vx.load(f"{http_files.url}/small.nii.gz")
    assert np.array_equal(np.asarray(img.dataobj), data)
    requests = http_files.settled().requests
    assert [(m, r) for m, _, r in requests] == [("HEAD", None), ("GET", f"bytes=0-{size - 1}")]
    assert http_files.sent == size
    # open_options naming a cache keeps the caller's choice: ranged reads again
    http_files.reset()
    img = vx.load(f"{http_files.url}/small.nii.gz", open_options={"cache_type": "none"})
    assert np.array_equal(np.asarray(img.dataobj), data)
    assert len(http_files.settled().requests) > 2


def test_missing_file_is_file_not_found_naming_the_url(served):
    server, _ = served
    url = f"{server.url}/none.nii"
    with pytest.raises(FileNotFoundError) as caught:
        vx.load(url)
    assert caught.value.filename == url
    os.remove(f"{server.root}/p.hdr")
    with pytest.raises(ImageFileError, match=r"p\.hdr"):
        vx.load(f"{server.url}/p.img")


def test_server_errors_and_unreachable_servers_are_voxelio_errors(served):
    server, _ = served
    server.status_for["/a.nii"] = 500
    with pytest.raises(ImageFileError, match=r"cannot reach .*a\.nii.*500"):
        vx.load(f"{server.url}/a.nii")
    server.status_for["/a.nii"] = 403
    with pytest.raises(ImageFileError, match="403"):
        vx.load(f"{server.url}/a.nii")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ImageFileError, match=r"cannot reach .*a\.nii.*onnect"):
        vx.load(f"http://127.0.0.1:{port}/a.nii")


def test_stack_over_http_reads_headers_concurrently_in_order(http_files):
    pytest.importorskip("dask")
    vols = [_data((8, 8, 6)) + i for i in range(12)]
    for i, vol in enumerate(vols):
        vx.save(vx.Nifti1Image(vol, AFFINE), f"{http_files.root}/v{i:02d}.nii.gz")
    urls = [f"{http_files.url}/v{i:02d}.nii.gz" for i in range(12)]
    http_files.delay = 0.05  # a distant server: answers overlap only if asked at once
    arr = vx.stack(urls, max_workers=4)
    assert 2 <= http_files.settled().most_in_flight <= 4
    assert np.array_equal(arr.compute(scheduler="sync"), np.stack(vols, axis=-1))
    http_files.reset()
    vx.stack(urls[:4], max_workers=1)
    assert http_files.settled().most_in_flight == 1
    # the first failure in input order is raised, whatever finishes first
    http_files.status_for["/v03.nii.gz"] = 500
    os.remove(f"{http_files.root}/v07.nii.gz")
    with pytest.raises(ImageFileError, match=r"v03\.nii\.gz"):
        vx.stack(urls)
    del http_files.status_for["/v03.nii.gz"]
    with pytest.raises(FileNotFoundError, match=r"v07\.nii\.gz"):
        vx.stack(urls)


# -- https with a certificate made here ------------------------------------------------------
@pytest.fixture
def https_files(tmp_path, file_server):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate, and a client context
    trusting it."""
    crypto = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = crypto.Name([crypto.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        crypto.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(crypto.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(crypto.SubjectAlternativeName(
            [crypto.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    (tmp_path / "www").mkdir()
    server = file_server(str(tmp_path / "www"), ssl_context=server_side)
    return server, ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))


def test_https_with_a_trusted_certificate_and_refused_otherwise(https_files):
    server, trusting = https_files
    data = _data((16, 12, 10, 3))
    vx.save(vx.Nifti1Image(data, AFFINE), f"{server.root}/t.nii")
    url = f"{server.url}/t.nii"
    assert url.startswith("https://")
    img = vx.load(url, storage_options={"ssl": trusting})
    assert np.array_equal(np.asarray(img.dataobj[..., 1]), data[..., 1])
    with pytest.raises(ImageFileError, match=r"cannot reach .*t\.nii.*certificate"):
        vx.load(url)  # the default context does not trust a self-signed certificate


# -- blocked gzip over http: the member index is built as reads need it ---------------------
def _members(path):
    from voxelio.codecs import gzip_layout

    with open(path, "rb") as f:
        raw = f.read()
    coffs, uoffs, csizes = gzip_layout.scan_members(lambda o, n: raw[o : o + n], len(raw))
    assert coffs[-1] + csizes[-1] == len(raw)  # every member indexed: voxelio's blocked gzip
    return coffs, uoffs, csizes


def _span(byte_range):
    """The number of bytes a ``bytes=a-b`` range asks for."""
    first, _, last = byte_range[len("bytes="):].partition("-")
    return int(last) + 1 - int(first)


@pytest.mark.parametrize("name", ["a.nii.gz", "a.mgz"])
def test_loading_a_blocked_gzip_file_fetches_no_data_member(served, name):
    server, _ = served
    coffs, _, csizes = _members(f"{server.root}/{name}")
    server.reset()
    img = vx.load(f"{server.url}/{name}")
    server.settled()
    gets = [r for m, _, r in server.requests if m == "GET"]
    if name == "a.nii.gz":
        # was one request per member (33 for 3.2 MB) and a whole data member (~350 KB) for
        # the format's leading bytes: now the first two headers and the start of member 1
        assert len(server.requests) <= 10, server.requests
        assert server.sent < 48 * 1024, server.sent
    else:
        # MGH's footer lies at the end of the data: hops to the last member, which is read
        assert len(gets) <= len(coffs) + 9, server.requests  # was 3 opens x every member
        assert server.sent < csizes[-1] + 48 * 1024
        local = vx.load(f"{server.root}/{name}")
        assert img.header.get_zooms()[:3] == local.header.get_zooms()[:3]
    # nothing is fetched twice as a whole member
    whole = [r for r in gets if r and _span(r) > 64 * 1024]
    assert len(whole) == len(set(whole))


def test_a_read_of_a_blocked_gzip_file_fetches_its_members_in_one_request(served):
    server, expected = served
    coffs, uoffs, csizes = _members(f"{server.root}/a.nii.gz")
    img = vx.load(f"{server.url}/a.nii.gz")
    server.reset()
    vol = np.asarray(img.dataobj[..., 6])
    server.settled()
    nbytes = int(np.prod(SHAPE[:3])) * 2
    offset = 352 + 6 * nbytes
    first = next(k for k in range(len(coffs)) if uoffs[k + 1] > offset)
    last = next(k for k in range(len(coffs)) if uoffs[k + 1] >= offset + nbytes)
    needed = coffs[last] + csizes[last] - coffs[first]
    # the members before it are hopped (a header each), the ones it needs come in one range
    big = [r for _, _, r in server.requests if r and _span(r) > 4096]
    assert len(big) == 1, server.requests
    assert len(server.requests) <= first + 3, server.requests
    assert needed <= server.sent <= needed * 1.1 + 8192, (server.sent, needed)
    assert np.allclose(vol, expected[..., 6])
    img = vx.load(f"{server.url}/a.nii.gz")
    server.reset()
    assert np.allclose(img.get_fdata(), expected)
    # all members in one range after the first header (was a header request per member,
    # then the members)
    assert len(server.settled().requests) <= 4, server.requests
    assert server.sent <= os.path.getsize(f"{server.root}/a.nii.gz") + 1024
