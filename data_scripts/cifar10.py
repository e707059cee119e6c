"""Download CIFAR-10 (python version) into <root>/cifar-10-batches-py/ (what torchvision.datasets.CIFAR10(root) reads).

    python data_scripts/cifar10.py [--root DIR] [--url URL] [--archive cifar-10-python.tar.gz]

Source: https://www.cs.toronto.edu/~kriz/cifar.html (Krizhevsky, 2009); MD5 as published there and in torchvision.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER, FILES = "cifar-10-batches-py", ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]


def check(path):
    missing = [f for f in FILES if not (Path(path) / f).exists()]
    if missing: raise C.LayoutError(f"{path} lacks {missing}")
    return f"{len(FILES)} files"


def prepare(root, url: str = URL, archive=None, sha256=None, md5: str | None = MD5, keep_archive=False, quiet=False, **kw):
    "Download, verify and extract CIFAR-10; returns <root>/cifar-10-batches-py."
    return C.prepare_archive(name="CIFAR-10", root=root, folder=FOLDER, url=url, filename="cifar-10-python.tar.gz",
                             archive=archive, sha256=sha256, md5=None if sha256 else md5, keep_archive=keep_archive,
                             quiet=quiet, locate=lambda tmp: C.find_dir(tmp, [FOLDER]) / FOLDER, check=check, **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256, MD5, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
