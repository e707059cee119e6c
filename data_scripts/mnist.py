"""Download MNIST into <root>/MNIST/raw/ (the idx files torchvision.datasets.MNIST(root) reads, gzipped and not).

    python data_scripts/mnist.py [--root DIR] [--url BASE_URL]

Source: torchvision's mirror of http://yann.lecun.com/exdb/mnist/ (LeCun et al., 1998); MD5s as in torchvision.
`--url` is the base URL the four files are under (a mirror); `--archive` is not used (four files).
"""
import gzip, shutil, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FILES = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
         "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
         "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
         "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}


def prepare(root, url: str = URL, files: dict = FILES, quiet=False, **kw):
    "Download, verify and decompress the four MNIST files; returns <root>/MNIST."
    target = Path(root).expanduser() / "MNIST"
    if (info := C.is_done(target)) is not None:
        C.report(f"MNIST: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    raw = target / "raw"
    for name, md5 in files.items():
        gz = C.download(url.rstrip("/") + "/" + name, raw / name, md5=md5, quiet=quiet, **kw)
        out = raw / name[:-3]
        if not out.exists():
            tmp = out.with_name(out.name + ".tmp")
            with gzip.open(gz, "rb") as fi, open(tmp, "wb") as fo: shutil.copyfileobj(fi, fo)
            tmp.replace(out)
    C.mark_done(target, name="MNIST", url=url, files=sorted(files))
    C.report(f"MNIST: ready in {target}", quiet)
    return target


def main(argv=None):
    a = C.parser(__doc__, URL, archive=False, sha256=False).parse_args(argv)
    prepare(C.root_of(a), a.url, quiet=a.quiet)


if __name__ == "__main__":
    C.run_main(main)
