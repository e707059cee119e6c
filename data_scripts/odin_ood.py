"""Download the OOD sets of the ODIN release (LSUN crop / resize, iSUN, Tiny-ImageNet crop / resize; 32x32 images)
into <root>/ood/<set>/.

    python data_scripts/odin_ood.py [--set LSUN LSUN_resize iSUN] [--root DIR] [--url URL] [--archive FILE]

Source: the Dropbox links of https://github.com/facebookresearch/odin (Liang et al., ICLR 2018), also used by the
Energy / ReAct / DICE / ASH code. No checksum is published: the SHA-256 of the first download is printed and stored
in <set>/.oodgen_done; pin it elsewhere with --sha256 (one set at a time).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _ood as O

SETS = {"LSUN": ("https://www.dropbox.com/s/fhtsw1m3qxlwj6h/LSUN.tar.gz?dl=1", 10000),
        "LSUN_resize": ("https://www.dropbox.com/s/moqh2wh8696c3yl/LSUN_resize.tar.gz?dl=1", 10000),
        "iSUN": ("https://www.dropbox.com/s/ssz7qxfqae0cca5/iSUN.tar.gz?dl=1", 8925),
        "Imagenet": ("https://www.dropbox.com/s/avgm2u562itwpkl/Imagenet.tar.gz?dl=1", 10000),
        "Imagenet_resize": ("https://www.dropbox.com/s/kp3my3412u5k9rl/Imagenet_resize.tar.gz?dl=1", 10000)}
SHA256 = {}      # none published


def prepare(root, name: str = "LSUN", url: str | None = None, archive=None, sha256=None, keep_archive=False, quiet=False,
            min_images: int = 1, **kw):
    "Download and extract one ODIN OOD set; returns <root>/ood/<name>."
    if name not in SETS: raise ValueError(f"unknown ODIN OOD set {name!r}; known: {', '.join(SETS)}")
    return C.prepare_archive(name=name, root=root, folder=O.folder(name), url=url or SETS[name][0], filename=f"{name}.tar.gz",
                             archive=archive, sha256=sha256 or SHA256.get(name), keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: O.image_root(tmp, name), check=O.check_images(min_images), **kw)


def main(argv=None):
    ap = C.parser(__doc__, None)
    ap.add_argument("--set", nargs="+", default=["LSUN", "LSUN_resize", "iSUN"], choices=list(SETS))
    ap.add_argument("--min-images", type=int, default=None, help="fewest images a complete set has (default: the published count)")
    a = ap.parse_args(argv)
    if (a.url or a.archive or a.sha256) and len(a.set) > 1: raise ValueError("--url, --archive and --sha256 need one --set")
    for name in a.set: prepare(C.root_of(a), name, a.url, a.archive, a.sha256, a.keep_archive, a.quiet, min_images=a.min_images or SETS[name][1])


if __name__ == "__main__":
    C.run_main(main)
