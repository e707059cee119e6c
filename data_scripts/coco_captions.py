"""Download COCO captions into <root>/coco/{train2017,val2017}/ and <root>/coco/annotations/captions_*.json.

    python data_scripts/coco_captions.py [--root DIR] [--year 2017] [--splits train val] [--url BASE_URL]

Source: https://cocodataset.org (Lin et al., ECCV 2014; Chen et al., 2015 for the captions), files
`zips/<split><year>.zip` (train2017 18 GB, val2017 1 GB) and `annotations/annotations_trainval<year>.zip`
from http://images.cocodataset.org. This is the layout oodgen.data.captions.coco_pairs reads. `--url`
replaces the base URL (a mirror with the same paths). No checksums are published: the SHA-256 of each file is
printed and stored in its folder's .oodgen_done. Each part is resumable and marked done on its own.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "http://images.cocodataset.org/"


def prepare(root, url: str = URL, year: int = 2017, splits=("train", "val"), keep_archive=False, quiet=False, **kw):
    "Download the annotations and the image splits; returns <root>/coco."
    root = Path(root).expanduser(); base = url.rstrip("/") + "/"
    def check_ann(p):
        found = [f"captions_{s}{year}.json" for s in ("train", "val") if (p / f"captions_{s}{year}.json").exists()]
        if not found: raise C.LayoutError(f"{p} holds no captions_<split>{year}.json")
        return ", ".join(found)
    C.prepare_archive(name="COCO annotations", root=root, folder="coco/annotations",
                      url=f"{base}annotations/annotations_trainval{year}.zip", filename=f"annotations_trainval{year}.zip",
                      keep_archive=keep_archive, quiet=quiet, locate=lambda tmp: C.find_dir(tmp, ["annotations"]) / "annotations",
                      check=check_ann, **kw)
    for s in splits:
        if s not in ("train", "val", "test"): raise ValueError(f"unknown split {s!r}; use train, val or test")
        name = f"{s}{year}"
        def check_imgs(p):
            n = sum(1 for _ in Path(p).glob("*.jpg"))
            if not n: raise C.LayoutError(f"{p} holds no .jpg images")
            return f"{n} images"
        C.prepare_archive(name=f"COCO {name}", root=root, folder=f"coco/{name}", url=f"{base}zips/{name}.zip",
                          filename=f"{name}.zip", keep_archive=keep_archive, quiet=quiet,
                          locate=lambda tmp, name=name: C.find_dir(tmp, [name]) / name, check=check_imgs, **kw)
    return root / "coco"


def main(argv=None):
    ap = C.parser(__doc__, URL, archive=False, sha256=False)
    ap.add_argument("--year", type=int, default=2017)
    ap.add_argument("--splits", nargs="+", default=["train", "val"])
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.url, a.year, a.splits, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
