"""Download the SVHN test split (26,032 digits, 32x32) into <root>/ood/svhn/test_32x32.mat: the OOD set of the CIFAR benchmarks.

    python data_scripts/svhn.py [--root DIR] [--url URL] [--archive test_32x32.mat]

Source: http://ufldl.stanford.edu/housenumbers/ (Netzer et al., 2011); MD5 as in torchvision.datasets.SVHN.
Read by `oodgen.data.ood_sets.ood_dataset("svhn")` (scipy.io.loadmat).
"""
import shutil, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _ood as O

URL = "http://ufldl.stanford.edu/housenumbers/test_32x32.mat"
MD5 = "eb5a983be6a315427106f1b164d9cef3"
FILE = "test_32x32.mat"


def prepare(root, url: str = URL, archive=None, sha256=None, md5: str | None = MD5, quiet=False, **kw):
    "Download and verify SVHN's test_32x32.mat; returns <root>/ood/svhn."
    target = Path(root).expanduser() / O.folder("svhn")
    if (info := C.is_done(target)) is not None:
        C.report(f"SVHN: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    md5 = None if sha256 else md5
    if archive is not None:
        archive = Path(archive).expanduser()
        if not archive.exists(): raise FileNotFoundError(f"--archive {archive} does not exist")
        C.verify(archive, sha256, md5); target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, target / (FILE + ".tmp")); (target / (FILE + ".tmp")).replace(target / FILE)
    else:
        C.download(url, target / FILE, sha256, md5, quiet=quiet, **kw)       # resumable; renamed only once verified
    C.mark_done(target, name="SVHN test", url=url, file=FILE, sha256=C.file_hash(target / FILE))
    C.report(f"SVHN: ready in {target}", quiet)
    return target


def main(argv=None):
    a = C.parser(__doc__, URL, archive=True, sha256=True).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256, quiet=a.quiet)


if __name__ == "__main__":
    C.run_main(main)
