"""data_scripts/ against a local HTTP server (127.0.0.1, ephemeral port, with HTTP Range support) serving small
archives in the real formats: download + layout, checksum failure, resumed downloads, idempotent reruns."""
import errno, gzip, hashlib, importlib, io, json, re, subprocess, sys, tarfile, threading, zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "data_scripts"
sys.path.insert(0, str(SCRIPTS))
C = importlib.import_module("_common")


# ------------------------------------------------------------------------------------------------ local server
class Handler(BaseHTTPRequestHandler):
    "Serves `server.files`; honours `Range: bytes=N-`; can cut the body short once (`server.truncate[path] = n`)."
    def do_GET(self):
        srv, path = self.server, self.path.split("?")[0]
        srv.log.append((path, self.headers.get("Range")))
        if path not in srv.files: self.send_error(404); return
        data, ctype = srv.files[path]
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and path not in srv.no_range:
            start = int(re.match(r"bytes=(\d+)-", rng)[1])
            if start >= len(data):
                self.send_response(416); self.send_header("Content-Range", f"bytes */{len(data)}"); self.end_headers(); return
            status = 206
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(body)))
        if status == 206: self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = srv.truncate.pop(path, None)
        self.wfile.write(body if cut is None else body[:cut]); self.wfile.flush()
    def log_message(self, *a): pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.files, srv.log, srv.truncate, srv.no_range = {}, [], {}, set()
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    def serve(path, data, ctype="application/octet-stream"):
        srv.files[path] = (data, ctype); return srv.url + path
    srv.serve = serve
    yield srv
    srv.shutdown(); srv.server_close()


def sha(b): return hashlib.sha256(b).hexdigest()
def md5(b): return hashlib.md5(b).hexdigest()


def png(seed=0, size=8):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def make_zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items(): z.writestr(name, data)
    return buf.getvalue()


def make_tar(files: dict, mode="w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npy(a) -> bytes:
    buf = io.BytesIO(); np.save(buf, a); return buf.getvalue()


def script(name): return importlib.import_module(name)


PACS_DOMAINS = ("art_painting", "cartoon", "photo", "sketch")
PACS_CLASSES = ("dog", "elephant", "giraffe", "guitar", "horse", "house", "person")


def pacs_zip():   # DomainBed's PACS.zip: kfold/<domain>/<class>/<image>
    return make_zip({f"kfold/{d}/{c}/{i}.png": png(i) for d in PACS_DOMAINS for c in PACS_CLASSES for i in range(2)})


# ------------------------------------------------------------------------------------------------ tests
def test_download_layout_and_idempotent(server, tmp_path):
    data = pacs_zip(); url = server.serve("/PACS.zip", data)
    pacs = script("pacs")
    out = pacs.prepare(tmp_path, url=url, sha256=sha(data), quiet=True)
    assert out == tmp_path / "PACS"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(PACS_DOMAINS)
    assert (out / "sketch" / "person" / "1.png").read_bytes() == png(1)
    info = json.loads((out / C.DONE).read_text())
    assert info["sha256"] == sha(data) and info["summary"] == {d: 14 for d in PACS_DOMAINS}
    assert not (tmp_path / "_downloads" / "PACS.zip").exists() and not (tmp_path / "_tmp_PACS").exists()
    from oodgen.data.domains import get_dataset
    ds = get_dataset("pacs", root=tmp_path)
    assert len(ds) == 4 and len(ds["photo"]) == 14
    n = len(server.log)
    assert pacs.prepare(tmp_path, url=url, sha256=sha(data), quiet=True) == out   # second run: nothing to do
    assert len(server.log) == n


def test_checksum_failure_leaves_nothing_complete(server, tmp_path):
    data = pacs_zip(); url = server.serve("/PACS.zip", data)
    with pytest.raises(C.ChecksumError, match=r"SHA-256 is [0-9a-f]{64}, expected 0+.*deleted"):
        script("pacs").prepare(tmp_path, url=url, sha256="0" * 64, quiet=True)
    dl = tmp_path / "_downloads"
    assert not (dl / "PACS.zip").exists() and not (dl / "PACS.zip.part").exists()
    assert not (tmp_path / "PACS" / C.DONE).exists()
    # an MD5 mismatch (CIFAR-10's published checksum) fails the same way
    url = server.serve("/cifar-10-python.tar.gz", b"not the real archive")
    with pytest.raises(C.ChecksumError, match="MD5"):
        script("cifar10").prepare(tmp_path, url=url, quiet=True)
    assert not any(dl.iterdir())


def cifar_c_tar(block=2):
    c10c = script("_cifar_c")
    files = {f"CIFAR-10-C/{n}.npy": npy(np.full((5 * block, 32, 32, 3), k, np.uint8)) for k, n in enumerate(c10c.CORRUPTIONS)}
    files["CIFAR-10-C/labels.npy"] = npy(np.tile(np.arange(block), 5).astype(np.uint8))
    return make_tar(files)


def test_interrupted_download_resumes(server, tmp_path):
    data = cifar_c_tar(); url = server.serve("/CIFAR-10-C.tar", data)
    mod = script("cifar10_c")
    server.truncate["/CIFAR-10-C.tar"] = len(data) // 3
    with pytest.raises(C.DownloadError, match="run the same command again to resume"):
        mod.prepare(tmp_path, url=url, md5=md5(data), block_size=2, quiet=True, retries=0)
    part = tmp_path / "_downloads" / "CIFAR-10-C.tar.part"
    assert part.stat().st_size == len(data) // 3 and not (tmp_path / "CIFAR-10-C").exists()
    out = mod.prepare(tmp_path, url=url, md5=md5(data), block_size=2, quiet=True, retries=0)
    assert server.log[-1] == ("/CIFAR-10-C.tar", f"bytes={len(data) // 3}-")   # asked only for the rest
    assert not part.exists()
    from oodgen.data.corruptions import CIFARC
    ds = CIFARC("fog", 4, root=tmp_path, block_size=2)
    assert len(ds) == 2 and ds[1][1] == 1 and round(float(ds[0][0].max()) * 255) == 9   # fog is corruption no. 9


def test_resume_within_one_call_and_server_without_range(server, tmp_path):
    data = pacs_zip()
    url = server.serve("/PACS.zip", data)
    server.truncate["/PACS.zip"] = 1000
    C.download(url, tmp_path / "a.zip", sha256=sha(data), quiet=True, retries=2, backoff=0)
    assert (tmp_path / "a.zip").read_bytes() == data and server.log[-1][1] == "bytes=1000-"
    server.no_range.add("/PACS.zip"); server.truncate["/PACS.zip"] = 1000   # a server ignoring Range: start over
    C.download(url, tmp_path / "b.zip", sha256=sha(data), quiet=True, retries=2, backoff=0)
    assert (tmp_path / "b.zip").read_bytes() == data


def test_html_page_and_http_errors(server, tmp_path):
    url = server.serve("/PACS.zip", b"<html>Google Drive - quota exceeded</html>", "text/html; charset=utf-8")
    with pytest.raises(C.DownloadError, match="HTML page.*--archive"):
        script("pacs").prepare(tmp_path, url=url, quiet=True)
    with pytest.raises(C.DownloadError, match="HTTP 404.*--url"):
        C.download(server.url + "/nothing.zip", tmp_path / "x.zip", quiet=True)


def test_local_archive_and_bad_layout(server, tmp_path):
    good = tmp_path / "PACS.zip"; good.write_bytes(pacs_zip())
    out = script("vlcs").prepare  # noqa: F841 (import check)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_zip({f"kfold/{d}/dog/0.png": png() for d in PACS_DOMAINS[:3]}))
    with pytest.raises(C.LayoutError, match="sketch"):
        script("pacs").prepare(tmp_path / "r", archive=bad, quiet=True)
    out = script("pacs").prepare(tmp_path / "r", archive=good, quiet=True)
    assert (out / C.DONE).exists() and good.exists()          # a user's archive is never deleted


def test_mnist_c_mnist_and_terra(server, tmp_path):
    mc = script("mnist_c")
    files = {}
    for c in mc.CORRUPTIONS:
        for s, n in (("train", 3), ("test", 2)):
            files[f"mnist_c/{c}/{s}_images.npy"] = npy(np.full((n, 28, 28, 1), 200, np.uint8))
            files[f"mnist_c/{c}/{s}_labels.npy"] = npy(np.arange(n))
    z = make_zip(files)
    out = mc.prepare(tmp_path, url=server.serve("/mnist_c.zip", z), md5=md5(z), quiet=True)
    from oodgen.data.corruptions import MNISTC
    assert len(MNISTC("mnist_c/stripe", "train", root=tmp_path)) == 3 and out == tmp_path / "mnist_c"

    mn = script("mnist")
    raw = {name: gzip.compress(name.encode() * 10) for name in mn.FILES}
    for name, b in raw.items(): server.serve(f"/mnist/{name}", b)
    out = mn.prepare(tmp_path, url=server.url + "/mnist/", files={k: md5(v) for k, v in raw.items()}, quiet=True)
    assert (out / "raw" / "t10k-labels-idx1-ubyte").read_bytes() == b"t10k-labels-idx1-ubyte.gz" * 10

    ti = script("terra_incognita")
    cats = [{"id": i, "name": n} for i, n in enumerate(["bird", "deer", "coyote", "empty"])]
    images = [{"id": f"i{k}", "file_name": f"{k}.jpg", "location": loc} for k, loc in
              enumerate(["38", "46", "100", "43", "43", "99"])]
    anns = [{"image_id": "i0", "category_id": 0}, {"image_id": "i1", "category_id": 2}, {"image_id": "i2", "category_id": 3},
            {"image_id": "i3", "category_id": 0}, {"image_id": "i3", "category_id": 2}, {"image_id": "i4", "category_id": 1},
            {"image_id": "i5", "category_id": 0}]
    ann = make_zip({"caltech_images_20210113.json": json.dumps({"categories": cats, "images": images, "annotations": anns})})
    tgz = make_tar({f"eccv_18_all_images_sm/{k}.jpg": png(k) for k in range(6)}, mode="w:gz")
    out = ti.prepare(tmp_path, url=server.serve("/imgs.tar.gz", tgz), annotations_url=server.serve("/ann.zip", ann), quiet=True)
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg"))
    assert got == ["location_100/empty/2.jpg", "location_38/bird/0.jpg", "location_43/bird/3.jpg",
                   "location_43/coyote/3.jpg", "location_46/coyote/1.jpg"]      # deer and location 99 left out


def test_domain_net_flickr_coco(server, tmp_path):
    dn = script("domain_net")
    for d in ("clipart", "sketch"):
        server.serve(f"/dn/{d}.zip", make_zip({f"{d}/{c}/{i}.png": png(i) for c in ("aircraft_carrier", "zebra") for i in range(2)}))
    dup = tmp_path / "dups.txt"; dup.write_text("clipart/zebra/1.png\nsketch/zebra/0.png\n")
    out = dn.prepare(tmp_path, url=server.url + "/dn", domains=["clipart", "sketch"], duplicates=dup, quiet=True)
    assert not (out / "clipart" / "zebra" / "1.png").exists() and (out / "clipart" / "zebra" / "0.png").exists()
    assert (out / "sketch" / C.DONE).exists() and not (out / C.DONE).exists()   # two of six domains: not complete
    with pytest.raises(ValueError, match="unknown DomainNet domain"):
        dn.prepare(tmp_path, domains=["clip_art"], quiet=True)

    fl = script("flickr30k")
    with pytest.raises(FileNotFoundError, match="licence form"):
        fl.prepare(tmp_path, quiet=True)
    imgs = tmp_path / "flickr30k-images.tar.gz"
    imgs.write_bytes(make_tar({f"flickr30k-images/{k}.jpg": png(k) for k in range(3)}, mode="w:gz"))
    token = tmp_path / "results_20130124.token"
    token.write_text("".join(f"{k}.jpg#{j}\tA dog number {k}, caption {j}.\n" for k in range(3) for j in range(5)))
    out = fl.prepare(tmp_path, images=imgs, captions=token, quiet=True)
    from oodgen.data.captions import read_flickr30k_csv
    caps = read_flickr30k_csv(out / "results.csv")
    assert len(caps) == 3 and caps["2.jpg"][4] == "A dog number 2, caption 4." and len(list((out / "flickr30k-images").glob("*.jpg"))) == 3

    cc = script("coco_captions")
    capjson = json.dumps({"images": [{"id": 1, "file_name": "000000000001.jpg"}],
                          "annotations": [{"image_id": 1, "id": 5, "caption": "a cat"}]})
    server.serve("/coco/annotations/annotations_trainval2017.zip", make_zip({"annotations/captions_val2017.json": capjson}))
    server.serve("/coco/zips/val2017.zip", make_zip({"val2017/000000000001.jpg": png(1)}))
    out = cc.prepare(tmp_path, url=server.url + "/coco", splits=["val"], quiet=True)
    assert (out / "annotations" / "captions_val2017.json").exists() and (out / "val2017" / "000000000001.jpg").exists()


def test_scripts_are_light_and_fail_cleanly(server, tmp_path):
    names = ["pacs", "vlcs", "office_home", "terra_incognita", "domain_net", "cifar10", "cifar100", "cifar10_c",
             "cifar100_c", "mnist", "mnist_c", "flickr30k", "coco_captions", "nico", "wilds_sets", "imagenet_v2",
             "imagenet_r", "imagenet_a", "imagenet_sketch", "objectnet", "imagenet_100", "imagenet_100_c"]
    code = (f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); "
            + "; ".join(f"import {n}" for n in names) + "; print('torch' in sys.modules, 'numpy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split() == ["False", "False"], r.stderr
    url = server.serve("/PACS.zip", pacs_zip())
    r = subprocess.run([sys.executable, str(SCRIPTS / "pacs.py"), "--root", str(tmp_path), "--url", url,
                        "--sha256", "1" * 64, "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error: PACS.zip: SHA-256 is") and "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------ unsafe archives
C10_FILES = ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]


def tar_with(members, mode="w:gz") -> bytes:
    "The CIFAR-10 archive layout plus `members` = [(name, tar type, link name)] (files of 3 bytes, links, FIFOs, devices)."
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for f in C10_FILES:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{f}"); info.size = 3; t.addfile(info, io.BytesIO(b"abc"))
        for name, kind, link in members:
            info = tarfile.TarInfo(name); info.type, info.linkname = kind, link
            if kind == tarfile.REGTYPE: info.size = 3
            t.addfile(info, io.BytesIO(b"abc") if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


BAD_MEMBERS = [("fifo", ("cifar-10-batches-py/pipe", tarfile.FIFOTYPE, ""), "special file"),
               ("char device", ("cifar-10-batches-py/null", tarfile.CHRTYPE, ""), "special file"),
               ("block device", ("cifar-10-batches-py/sda", tarfile.BLKTYPE, ""), "special file"),
               ("symlink absolute", ("cifar-10-batches-py/passwd", tarfile.SYMTYPE, "/etc/passwd"), "link to an absolute path"),
               ("symlink outside", ("cifar-10-batches-py/up", tarfile.SYMTYPE, "../../outside"), "link pointing outside"),
               ("hard link outside", ("cifar-10-batches-py/hard", tarfile.LNKTYPE, "../outside"), "link pointing outside"),
               ("dot-dot path", ("../outside", tarfile.REGTYPE, ""), "outside"),
               ("absolute path", ("/tmp/oodgen-absolute-member", tarfile.REGTYPE, ""), "absolute")]


@pytest.mark.parametrize("member,why", [b[1:] for b in BAD_MEMBERS], ids=[b[0] for b in BAD_MEMBERS])
def test_tar_member_refused_with_its_name(tmp_path, member, why):
    arc = tmp_path / "cifar-10-python.tar.gz"; arc.write_bytes(tar_with([member]))
    dest = tmp_path / "x" / "dest"
    with pytest.raises(C.ArchiveError, match=re.escape(f"cifar-10-python.tar.gz: refusing to extract archive member "
                                                       f"{member[0]!r}: ") + ".*" + why):
        C.extract(arc, dest, quiet=True)
    assert not (tmp_path / "x" / "outside").exists() and not (tmp_path / "outside").exists()
    assert not Path("/tmp/oodgen-absolute-member").exists()


def test_tar_fifo_fails_in_one_line_from_the_command_line(tmp_path):
    arc = tmp_path / "cifar-10-python.tar.gz"; arc.write_bytes(tar_with([("cifar-10-batches-py/pipe", tarfile.FIFOTYPE, "")]))
    r = subprocess.run([sys.executable, str(SCRIPTS / "cifar10.py"), "--root", str(tmp_path / "data"), "--archive", str(arc),
                        "--sha256", sha(arc.read_bytes()), "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: cifar-10-python.tar.gz: refusing to extract archive member "
                               "'cifar-10-batches-py/pipe': it is a special file") and r.stderr.count("\n") == 1
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()


def test_tar_links_inside_are_kept(tmp_path):
    arc = tmp_path / "a.tar"; arc.write_bytes(tar_with([("cifar-10-batches-py/alias", tarfile.SYMTYPE, "test_batch")], "w"))
    out = C.extract(arc, tmp_path / "dest", quiet=True) / "cifar-10-batches-py"
    assert (out / "alias").is_symlink() and (out / "alias").read_bytes() == b"abc"


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/oodgen-zip-absolute.txt", "a/../../evil.txt"])
def test_zip_member_outside_refused_before_anything_is_written(tmp_path, name):
    arc = tmp_path / "PACS.zip"; arc.write_bytes(make_zip({"kfold/photo/dog/0.png": png(0), name: b"evil"}))
    with pytest.raises(C.ArchiveError, match=re.escape(f"PACS.zip: archive member {name!r} would land outside")):
        C.extract(arc, tmp_path / "dest", quiet=True)
    assert not any((tmp_path / "dest").iterdir()) and not (tmp_path / "evil.txt").exists()


# ------------------------------------------------------------------------------------------------ disk full
def test_disk_full_during_download_keeps_everything(server, tmp_path, monkeypatch):
    data = bytes(range(256)) * 40; url = server.serve("/big.bin", data)             # 10,240 bytes: 8,240 = 8.0 KiB left after 2,000
    dl = tmp_path / "_downloads"; dl.mkdir(); (dl / "earlier.zip").write_bytes(b"an earlier download")
    real_open, written = open, []
    class Full:                                     # a file that takes 2,000 bytes and then finds the disk full
        def __init__(self, f): self.f = f
        def write(self, b):
            if sum(written) + len(b) > 2000: raise OSError(errno.ENOSPC, "No space left on device")
            written.append(len(b)); return self.f.write(b)
        def __enter__(self): return self
        def __exit__(self, *a): self.f.close()
    monkeypatch.setattr(C, "open", lambda p, *a, **k: Full(real_open(p, *a, **k)) if str(p).endswith(".part")
                        else real_open(p, *a, **k), raising=False)
    with pytest.raises(C.DiskFullError) as e:
        C.download(url, dl / "big.bin", sha256=sha(data), chunk_size=1000, quiet=True)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"disk full writing to {dl} (8.0 KiB more needed, ") and "big.bin.part keeps the 2,000 bytes" in msg
    assert (dl / "big.bin.part").read_bytes() == data[:2000] and (dl / "earlier.zip").read_bytes() == b"an earlier download"
    assert not (dl / "big.bin").exists()
    monkeypatch.undo()
    assert C.download(url, dl / "big.bin", sha256=sha(data), quiet=True).read_bytes() == data   # resumed
    assert server.log[-1] == ("/big.bin", "bytes=2000-")


def test_disk_full_during_extraction(tmp_path, monkeypatch):
    arc = tmp_path / "cifar-10-python.tar.gz"; arc.write_bytes(tar_with([]))
    root = tmp_path / "data"; (root / "PACS").mkdir(parents=True); (root / "PACS" / "kept").write_text("earlier data")
    def full(*a, **k): raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(tarfile, "copyfileobj", full)
    with pytest.raises(C.DiskFullError) as e:
        script("cifar10").prepare(root, archive=arc, sha256=sha(arc.read_bytes()), quiet=True)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"disk full writing to {root / '_tmp_cifar-10-batches-py'} (at least 3 bytes more needed, ")
    assert msg.endswith(f"{arc} is kept") and arc.exists() and (root / "PACS" / "kept").read_text() == "earlier data"
    assert not (root / "_tmp_cifar-10-batches-py").exists() and not (root / "cifar-10-batches-py").exists()
    monkeypatch.undo()
    out = script("cifar10").prepare(root, archive=arc, sha256=sha(arc.read_bytes()), quiet=True)
    assert (out / "test_batch").read_bytes() == b"abc" and (out / C.DONE).exists()


def test_disk_full_in_a_scripts_own_write_is_one_line(tmp_path, capsys):
    def main(): raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "terra" / "x.jpg"))
    with pytest.raises(SystemExit) as e: C.run_main(main)
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.startswith(f"error: disk full writing to {tmp_path / 'terra'} (") and err.count("\n") == 1
