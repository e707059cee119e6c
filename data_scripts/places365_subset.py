"""Download Places365 (256x256 validation or test images) and keep a seeded subset into <root>/ood/places365/.

    python data_scripts/places365_subset.py [--root DIR] [--split val|test] [--n 10000] [--seed 0] [--archive FILE]

Source: http://places2.csail.mit.edu (Zhou et al., TPAMI 2017); MD5s as in torchvision.datasets.Places365. The CIFAR
OOD benchmarks (Energy, ReAct, DICE, ASH) score 10,000 Places365 images; their exact list is not published with a
checksum, so the subset here is a seeded uniform draw (`--seed`) over the archive's sorted file names, written to
subset.txt. `val` (36,500 images, 525 MB) is the default; `test` (328,500 images, 4.4 GB) is what ASH's script fetches.
"""
import random, shutil, sys, tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _ood as O

SPLITS = {"val": ("http://data.csail.mit.edu/places/places365/val_256.tar", "e27b17d8d44f4af9a78502beb927f808"),
          "test": ("http://data.csail.mit.edu/places/places365/test_256.tar", "f532f6ad7b582262a2ec8009075e186b")}


def prepare(root, split: str = "val", n: int = 10000, seed: int = 0, url: str | None = None, archive=None, sha256=None,
            md5: str | None = None, keep_archive=False, quiet=False, **kw):
    "Download (resumable, verified) one Places365 archive and extract a seeded subset of `n` images; returns <root>/ood/places365."
    if split not in SPLITS: raise ValueError(f"unknown Places365 split {split!r}; known: {', '.join(SPLITS)}")
    if n < 1: raise ValueError(f"--n must be at least 1, got {n}")
    root = Path(root).expanduser(); target = root / O.folder("places365")
    if (info := C.is_done(target)) is not None:
        C.report(f"Places365 subset: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    url = url or SPLITS[split][0]; md5 = None if sha256 else (md5 or SPLITS[split][1])
    fname = Path(SPLITS[split][0]).name
    if archive is not None:
        archive = Path(archive).expanduser()
        if not archive.exists(): raise FileNotFoundError(f"--archive {archive} does not exist")
        C.verify(archive, sha256, md5)
    else:
        archive = C.download(url, root / "_downloads" / fname, sha256, md5, quiet=quiet, **kw)
    with tarfile.open(archive, "r:*") as t:
        members = sorted((m for m in t.getmembers() if m.isfile() and Path(m.name).suffix.lower() in O.IMAGE_EXTS),
                         key=lambda m: m.name)
        if not members: raise C.LayoutError(f"{archive} holds no images (is it a Places365 archive?)")
        pick = sorted(random.Random(seed).sample(range(len(members)), min(n, len(members))))
        tmp = root / "_tmp_ood_places365"
        if tmp.exists(): shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        for i in pick:
            m = members[i]; C._safe_target(tmp, m.name)
            with t.extractfile(m) as fi, open(tmp / Path(m.name).name, "wb") as fo: shutil.copyfileobj(fi, fo)
    (tmp / "subset.txt").write_text("".join(members[i].name + "\n" for i in pick))
    summary = O.check_images(len(pick))(tmp)
    if target.exists(): shutil.rmtree(target)          # an interrupted earlier attempt (no done marker)
    target.parent.mkdir(parents=True, exist_ok=True); shutil.move(str(tmp), str(target))
    C.mark_done(target, name="Places365 subset", url=url, file=archive.name, split=split, n=len(pick), seed=seed,
                sha256=C.file_hash(archive), summary=summary)
    if not keep_archive and archive.parent == root / "_downloads": archive.unlink()
    C.report(f"Places365 subset: ready in {target} ({len(pick)} of {len(members)} images)", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, None)
    ap.add_argument("--split", default="val", choices=list(SPLITS))
    ap.add_argument("--n", type=int, default=10000, help="images kept")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.split, a.n, a.seed, a.url, a.archive, a.sha256, keep_archive=a.keep_archive, quiet=a.quiet)


if __name__ == "__main__":
    C.run_main(main)
