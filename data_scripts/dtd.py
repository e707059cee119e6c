"""Download DTD, the Describable Textures Dataset (5,640 images, 47 classes), into <root>/ood/dtd/<class>/<image>.

    python data_scripts/dtd.py [--root DIR] [--url URL] [--archive dtd-r1.0.1.tar.gz]

Source: https://www.robots.ox.ac.uk/~vgg/data/dtd/ (Cimpoi et al., CVPR 2014); MD5 as in torchvision.datasets.DTD.
The "Textures" OOD set of ReAct / DICE / ASH / LINe / OpenOOD (all images, as they use them).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _ood as O

URL = "https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz"
MD5 = "fff73e5086ae6bdbea199a49dfb8a4c1"


def prepare(root, url: str = URL, archive=None, sha256=None, md5: str | None = MD5, keep_archive=False, quiet=False,
            min_images: int = 1, **kw):
    "Download, verify and extract DTD's images/ folder; returns <root>/ood/dtd."
    return C.prepare_archive(name="DTD", root=root, folder=O.folder("dtd"), url=url, filename="dtd-r1.0.1.tar.gz",
                             archive=archive, sha256=sha256, md5=None if sha256 else md5, keep_archive=keep_archive,
                             quiet=quiet, locate=lambda tmp: C.find_dir(tmp, ["images"]) / "images",
                             check=O.check_images(min_images), **kw)


def main(argv=None):
    ap = C.parser(__doc__, URL)
    ap.add_argument("--min-images", type=int, default=5640, help="fewest images a complete copy has")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256, MD5, a.keep_archive, a.quiet, min_images=a.min_images)


if __name__ == "__main__":
    C.run_main(main)
