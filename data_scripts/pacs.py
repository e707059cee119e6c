"""Download PACS (DomainBed's copy) into <root>/PACS/{art_painting,cartoon,photo,sketch}/<class>/<image>.

    python data_scripts/pacs.py [--root DIR] [--url URL] [--archive PACS.zip]

Source: the Google Drive file DomainBed's domainbed/scripts/download.py uses (its `kfold/` folder becomes PACS/).
Original: https://domaingeneralization.github.io (Li et al., ICCV 2017). No checksum is published: the SHA-256
of the first download is printed and stored in PACS/.oodgen_done. If Google Drive refuses (quota, HTML page),
download PACS.zip in a browser from https://drive.google.com/uc?id=1JFr8f805nMUelQWWmfnJR3y4_SYoN5Pd and pass
it with --archive.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = C.drive_url("1JFr8f805nMUelQWWmfnJR3y4_SYoN5Pd")
SHA256 = None


def prepare(root, url: str = URL, archive=None, sha256: str | None = SHA256, keep_archive=False, quiet=False, **kw):
    "Download, check and lay out PACS; returns <root>/PACS."
    s = C.spec("pacs")
    return C.prepare_archive(name="PACS", root=root, folder=s.folder, url=url, filename="PACS.zip", archive=archive,
                             sha256=sha256, keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: C.find_dir(tmp, s.domains),
                             check=lambda p: C.check_domain_layout(p, s.domains, s.classes), **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256 or SHA256, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
