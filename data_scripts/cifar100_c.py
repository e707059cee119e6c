"""Download CIFAR-100-C into <root>/CIFAR-100-C/<corruption>.npy + labels.npy (read by oodgen.data.corruptions.CIFARC).

    python data_scripts/cifar100_c.py [--root DIR] [--url URL] [--archive CIFAR-100-C.tar]

Source: Zenodo record 3555552 (Hendrycks & Dietterich, ICLR 2019), CIFAR-100-C.tar (2.9 GB), MD5 as listed on
Zenodo. 19 corruptions, each a uint8 array (50000, 32, 32, 3): the 10,000 test images at severity 1, then 2 .. 5.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _cifar_c

URL = "https://zenodo.org/records/3555552/files/CIFAR-100-C.tar?download=1"
MD5 = "11f0ed0f1191edbf9fa23466ae6021d3"


def prepare(root, url: str = URL, archive=None, sha256=None, md5: str | None = MD5, keep_archive=False, quiet=False,
            block_size: int = 10000, **kw):
    "Download, verify, extract and check CIFAR-100-C; returns <root>/CIFAR-100-C."
    return _cifar_c.prepare("CIFAR-100-C", "CIFAR-100-C", url, "CIFAR-100-C.tar", md5, root, archive, sha256,
                            keep_archive, quiet, block_size, **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256, MD5, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
