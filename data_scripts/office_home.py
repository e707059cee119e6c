"""Download Office-Home (DomainBed's copy) into <root>/office_home/{Art,Clipart,Product,Real World}/<class>/<image>.

    python data_scripts/office_home.py [--root DIR] [--url URL] [--archive office_home.zip]

Source: the Google Drive file DomainBed's domainbed/scripts/download.py uses (its OfficeHomeDataset_10072016/
folder becomes office_home/). Original: https://www.hemanthdv.org/officeHomeDataset.html (Venkateswara et al.,
CVPR 2017; research use only, see its licence). No checksum is published: the SHA-256 of the first download is
printed and stored in office_home/.oodgen_done. If Google Drive refuses, download
https://drive.google.com/uc?id=1uY0pj7oFsjMxRwaD3Sxy0jgel0fsYXLC in a browser and pass it with --archive.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = C.drive_url("1uY0pj7oFsjMxRwaD3Sxy0jgel0fsYXLC")
SHA256 = None


def prepare(root, url: str = URL, archive=None, sha256: str | None = SHA256, keep_archive=False, quiet=False, **kw):
    "Download, check and lay out Office-Home; returns <root>/office_home."
    s = C.spec("office_home")
    return C.prepare_archive(name="Office-Home", root=root, folder=s.folder, url=url, filename="office_home.zip",
                             archive=archive, sha256=sha256, keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: C.find_dir(tmp, s.domains),
                             check=lambda p: C.check_domain_layout(p, s.domains, s.classes), **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256 or SHA256, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
