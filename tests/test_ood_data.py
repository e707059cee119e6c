"""data_scripts for the OOD sets (svhn, dtd, places365_subset, odin_ood, mos_ood) against a local HTTP server serving
small archives in the real layouts, and `oodgen.data.ood_sets.ood_dataset` reading what they prepare."""
import importlib, io, json

import numpy as np
import pytest
import torch

from test_data_scripts import C, make_tar, md5, png, server, sha   # noqa: F401  (the local server fixture and helpers)


def script(name): return importlib.import_module(name)


def svhn_mat(n=5) -> bytes:
    from scipy.io import savemat
    buf = io.BytesIO()
    savemat(buf, {"X": np.random.default_rng(0).integers(0, 255, (32, 32, 3, n), dtype=np.uint8), "y": np.ones((n, 1))})
    return buf.getvalue()


def test_svhn_checksum_resume_and_loader(server, tmp_path):
    from oodgen.data.ood_sets import ood_dataset
    data = svhn_mat(); url = server.serve("/housenumbers/test_32x32.mat", data)
    with pytest.raises(C.ChecksumError, match="MD5 is"):
        script("svhn").prepare(tmp_path, url=url, quiet=True)                 # the published MD5 is not the toy file's
    assert not (tmp_path / "ood" / "svhn" / C.DONE).exists()
    server.truncate["/housenumbers/test_32x32.mat"] = len(data) // 2       # interrupted once, resumed with Range
    out = script("svhn").prepare(tmp_path, url=url, md5=md5(data), quiet=True, backoff=0)
    assert (out / "test_32x32.mat").read_bytes() == data and any(r for _, r in server.log if r)
    n = len(server.log)
    script("svhn").prepare(tmp_path, url=url, md5=md5(data), quiet=True); assert len(server.log) == n   # idempotent
    ds = ood_dataset("svhn", root=tmp_path)
    x, y = ds[0]
    assert len(ds) == 5 and x.shape == (3, 32, 32) and y == -1 and 0 <= x.min() and x.max() <= 1


def test_dtd_odin_mos_layouts_and_loader(server, tmp_path):
    from oodgen.data.ood_sets import ood_dataset
    dtd = make_tar({f"dtd/images/{c}/{c}_{i}.jpg": png(i) for c in ("banded", "woven") for i in range(3)} |
                   {"dtd/labels/train1.txt": b"banded/banded_0.jpg\n"}, "w:gz")
    out = script("dtd").prepare(tmp_path, url=server.serve("/dtd-r1.0.1.tar.gz", dtd), md5=md5(dtd), quiet=True)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["banded", "woven"]
    assert json.loads((out / C.DONE).read_text())["summary"] == {"images": 6}
    lsun = make_tar({f"LSUN/test/{i}.jpg": png(i) for i in range(4)}, "w:gz")
    odin = script("odin_ood")
    out = odin.prepare(tmp_path, "LSUN", url=server.serve("/s/x/LSUN.tar.gz", lsun), sha256=sha(lsun), quiet=True)
    assert out == tmp_path / "ood" / "LSUN" and len(list(out.rglob("*.jpg"))) == 4
    inat = make_tar({f"iNaturalist/images/{i}.jpg": png(i) for i in range(3)}, "w:gz")
    mos = script("mos_ood")
    url = server.serve("/imagenet_ood_dataset/iNaturalist.tar.gz", inat)
    mos.main(["--set", "iNaturalist", "--root", str(tmp_path), "--url", url, "--min-images", "3", "--quiet"])   # trust on first use
    info = json.loads((tmp_path / "ood" / "iNaturalist" / C.DONE).read_text())
    assert info["sha256"] == sha(inat) and info["summary"] == {"images": 3}
    for name, n in [("dtd", 6), ("LSUN", 4), ("iNaturalist", 3)]:
        ds = ood_dataset(name, root=tmp_path, image_size=16)
        assert len(ds) == n and ds[0][0].shape == (3, 16, 16) and ds[0][1] == -1
    with pytest.raises(ValueError, match="unknown ODIN OOD set 'LSUM'; known: LSUN"): odin.prepare(tmp_path, "LSUM")
    with pytest.raises(ValueError, match="need one --set"):
        mos.main(["--set", "SUN", "Places", "--root", str(tmp_path), "--url", url])


def test_places365_subset_is_seeded_and_idempotent(server, tmp_path):
    from oodgen.data.ood_sets import ood_dataset
    tar = make_tar({f"val_256/Places365_val_{i:08d}.jpg": png(i) for i in range(1, 13)})
    url = server.serve("/places365/val_256.tar", tar)
    p = script("places365_subset")
    out = p.prepare(tmp_path, "val", n=5, seed=3, url=url, md5=md5(tar), quiet=True)
    picked = (out / "subset.txt").read_text().split()
    assert len(picked) == 5 and len(list(out.glob("*.jpg"))) == 5
    again = p.prepare(tmp_path / "other", "val", n=5, seed=3, url=url, md5=md5(tar), quiet=True)
    assert (again / "subset.txt").read_text().split() == picked                 # the same seed, the same subset
    n = len(server.log)
    p.prepare(tmp_path, "val", n=5, seed=3, url=url, md5=md5(tar), quiet=True); assert len(server.log) == n
    assert len(ood_dataset("places365", root=tmp_path)) == 5
    with pytest.raises(ValueError, match="known: val, test"): p.prepare(tmp_path / "x", "train")


def test_ood_scripts_are_light_and_fail_cleanly(server, tmp_path):
    import subprocess, sys
    from test_data_scripts import SCRIPTS
    names = ["svhn", "dtd", "places365_subset", "odin_ood", "mos_ood"]
    code = (f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); " + "; ".join(f"import {n}" for n in names)
            + "; print('torch' in sys.modules, 'numpy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split() == ["False", "False"], r.stderr
    url = server.serve("/test_32x32.mat", b"not a mat file")
    r = subprocess.run([sys.executable, str(SCRIPTS / "svhn.py"), "--root", str(tmp_path), "--url", url, "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("error: test_32x32.mat: MD5 is") and "Traceback" not in r.stderr
