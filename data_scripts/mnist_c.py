"""Download MNIST-C into <root>/mnist_c/<corruption>/{train,test}_{images,labels}.npy (read by oodgen.data.corruptions.MNISTC).

    python data_scripts/mnist_c.py [--root DIR] [--url URL] [--archive mnist_c.zip]

Source: Zenodo record 3239543 (Mu & Gilmer, 2019), mnist_c.zip, MD5 as listed on Zenodo. 15 corruptions plus
`identity`; images are uint8 (N, 28, 28, 1).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "https://zenodo.org/records/3239543/files/mnist_c.zip?download=1"
MD5 = "4b34b33045869ee6d424616cd3a65da3"
CORRUPTIONS = ("identity", "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
               "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges")


def check(path):
    import numpy as np
    path, problems = Path(path), []
    for c in CORRUPTIONS:
        for split in ("train", "test"):
            fi, fl = path / c / f"{split}_images.npy", path / c / f"{split}_labels.npy"
            if not (fi.exists() and fl.exists()): problems.append(f"missing {c}/{split}_*.npy"); continue
            im, lb = np.load(fi, mmap_mode="r"), np.load(fl, mmap_mode="r")
            if im.ndim != 4 or im.shape[1:] != (28, 28, 1) or lb.shape != (im.shape[0],):
                problems.append(f"{c}/{split}: images {im.shape}, labels {lb.shape}; expected (N, 28, 28, 1) and (N,)")
    if problems: raise C.LayoutError(f"{path}: " + "; ".join(problems[:6]))
    return f"{len(CORRUPTIONS)} folders"


def prepare(root, url: str = URL, archive=None, sha256=None, md5: str | None = MD5, keep_archive=False, quiet=False, **kw):
    "Download, verify, extract and check MNIST-C; returns <root>/mnist_c."
    return C.prepare_archive(name="MNIST-C", root=root, folder="mnist_c", url=url, filename="mnist_c.zip",
                             archive=archive, sha256=sha256, md5=None if sha256 else md5, keep_archive=keep_archive,
                             quiet=quiet, locate=lambda tmp: C.find_dir(tmp, ["mnist_c"]) / "mnist_c", check=check, **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256, MD5, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
