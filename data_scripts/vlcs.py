"""Download VLCS (DomainBed's copy) into <root>/VLCS/{Caltech101,LabelMe,SUN09,VOC2007}/<class>/<image>.

    python data_scripts/vlcs.py [--root DIR] [--url URL] [--archive VLCS.tar.gz]

Source: the Google Drive file DomainBed's domainbed/scripts/download.py uses (VLCS.tar.gz, already in the
DomainBed layout). Original: Fang et al., ICCV 2013. No checksum is published: the SHA-256 of the first
download is printed and stored in VLCS/.oodgen_done. If Google Drive refuses, download
https://drive.google.com/uc?id=1skwblH1_okBwxWxmRsp9_qi15hyPpxg8 in a browser and pass it with --archive.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = C.drive_url("1skwblH1_okBwxWxmRsp9_qi15hyPpxg8")
SHA256 = None


def prepare(root, url: str = URL, archive=None, sha256: str | None = SHA256, keep_archive=False, quiet=False, **kw):
    "Download, check and lay out VLCS; returns <root>/VLCS."
    s = C.spec("vlcs")
    return C.prepare_archive(name="VLCS", root=root, folder=s.folder, url=url, filename="VLCS.tar.gz", archive=archive,
                             sha256=sha256, keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: C.find_dir(tmp, s.domains),
                             check=lambda p: C.check_domain_layout(p, s.domains, s.classes), **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256 or SHA256, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
