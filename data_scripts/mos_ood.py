"""Download the ImageNet OOD subsets curated in MOS (iNaturalist, SUN, Places; 10,000 images each, classes disjoint
from ImageNet-1k) into <root>/ood/<set>/.

    python data_scripts/mos_ood.py [--set iNaturalist SUN Places] [--root DIR] [--url URL] [--archive FILE]

Source: https://github.com/deeplearning-wisc/large_scale_ood (Huang & Li, CVPR 2021), used by ReAct / DICE / ASH /
LINe for ImageNet; Textures = DTD (data_scripts/dtd.py). No checksum is published: the SHA-256 of the first download
is printed and stored in <set>/.oodgen_done; pin it elsewhere with --sha256 (one set at a time).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _ood as O

BASE = "http://pages.cs.wisc.edu/~huangrui/imagenet_ood_dataset/"
SETS = {"iNaturalist": 10000, "SUN": 10000, "Places": 10000}
SHA256 = {}      # none published


def prepare(root, name: str = "iNaturalist", url: str | None = None, archive=None, sha256=None, keep_archive=False,
            quiet=False, min_images: int = 1, **kw):
    "Download and extract one MOS OOD set; returns <root>/ood/<name>."
    if name not in SETS: raise ValueError(f"unknown MOS OOD set {name!r}; known: {', '.join(SETS)}")
    return C.prepare_archive(name=name, root=root, folder=O.folder(name), url=url or f"{BASE}{name}.tar.gz",
                             filename=f"{name}.tar.gz", archive=archive, sha256=sha256 or SHA256.get(name),
                             keep_archive=keep_archive, quiet=quiet, locate=lambda tmp: O.image_root(tmp, name),
                             check=O.check_images(min_images), **kw)


def main(argv=None):
    ap = C.parser(__doc__, None)
    ap.add_argument("--set", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--min-images", type=int, default=None, help="fewest images a complete set has (default: the published count)")
    a = ap.parse_args(argv)
    if (a.url or a.archive or a.sha256) and len(a.set) > 1: raise ValueError("--url, --archive and --sha256 need one --set")
    for name in a.set: prepare(C.root_of(a), name, a.url, a.archive, a.sha256, a.keep_archive, a.quiet, min_images=a.min_images or SETS[name])


if __name__ == "__main__":
    C.run_main(main)
