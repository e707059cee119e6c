"""Download DomainNet into <root>/domain_net/{clipart,infograph,painting,quickdraw,real,sketch}/<class>/<image>.

    python data_scripts/domain_net.py [--root DIR] [--url BASE_URL] [--domains clipart sketch ...]
                                      [--duplicates domain_net_duplicates.txt | --keep-duplicates]

Source: the six zips of http://ai.bu.edu/M3SDA/ (Peng et al., ICCV 2019), at the URLs DomainBed's
domainbed/scripts/download.py uses (about 19 GB in all; one domain at a time, each resumable and marked
done on its own). As in DomainBed, the images listed in DomainBed's domainbed/misc/domain_net_duplicates.txt
are deleted afterwards; the list is fetched from DomainBed's repository, or pass a local copy with
--duplicates (or skip the step with --keep-duplicates). `--url` replaces the base URL of the zips (a mirror
holding the same file names); --archive is not used. No checksums are published: each zip's SHA-256 is
printed and stored in domain_net/<domain>/.oodgen_done.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URLS = {"clipart": "http://csr.bu.edu/ftp/visda/2019/multi-source/groundtruth/clipart.zip",
        "infograph": "http://csr.bu.edu/ftp/visda/2019/multi-source/infograph.zip",
        "painting": "http://csr.bu.edu/ftp/visda/2019/multi-source/groundtruth/painting.zip",
        "quickdraw": "http://csr.bu.edu/ftp/visda/2019/multi-source/quickdraw.zip",
        "real": "http://csr.bu.edu/ftp/visda/2019/multi-source/real.zip",
        "sketch": "http://csr.bu.edu/ftp/visda/2019/multi-source/sketch.zip"}
DUPLICATES_URL = "https://raw.githubusercontent.com/facebookresearch/DomainBed/main/domainbed/misc/domain_net_duplicates.txt"


def remove_duplicates(folder: Path, listing: Path) -> int:
    "Delete the files named (relative to domain_net/) in `listing`; returns how many were there."
    n = 0
    for line in listing.read_text().splitlines():
        p = folder / line.strip()
        if line.strip() and p.is_file(): p.unlink(); n += 1
    return n


def prepare(root, url: str | None = None, domains=None, duplicates=None, keep_duplicates: bool = False,
            duplicates_url: str = DUPLICATES_URL, keep_archive=False, quiet=False, **kw):
    "Download and lay out the DomainNet domains (all six by default); returns <root>/domain_net."
    s = C.spec("domain_net"); root = Path(root).expanduser(); target = root / s.folder
    if (info := C.is_done(target)) is not None:
        C.report(f"DomainNet: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    domains = list(domains or s.domains)
    unknown = [d for d in domains if d not in s.domains]
    if unknown: raise ValueError(f"unknown DomainNet domain(s) {unknown}; known: {', '.join(s.domains)}")
    for d in domains:
        u = URLS[d] if not url else url.rstrip("/") + "/" + URLS[d].rsplit("/", 1)[1]
        C.prepare_archive(name=f"DomainNet {d}", root=root, folder=f"{s.folder}/{d}", url=u, filename=f"{d}.zip",
                          keep_archive=keep_archive, quiet=quiet,
                          locate=lambda tmp, d=d: C.find_dir(tmp, [d]) / d,
                          check=lambda p: C.check_domain_layout(p.parent, [p.name], s.classes, exact_classes=False),
                          **kw)
    if keep_duplicates: removed = None
    else:
        listing = Path(duplicates) if duplicates else C.download(duplicates_url, root / "_downloads" /
                                                                  "domain_net_duplicates.txt", quiet=quiet, **kw)
        removed = remove_duplicates(target, listing)
        C.report(f"DomainNet: removed {removed} duplicate images listed in {listing.name}", quiet)
    if set(domains) == set(s.domains):
        C.mark_done(target, name="DomainNet", duplicates_removed=removed)
    C.report(f"DomainNet: ready in {target} ({', '.join(domains)})", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, None, archive=False, sha256=False)
    ap.add_argument("--domains", nargs="+", default=None, help="only these domains")
    ap.add_argument("--duplicates", default=None, help="local copy of DomainBed's domain_net_duplicates.txt")
    ap.add_argument("--keep-duplicates", action="store_true", help="do not delete DomainBed's duplicate list")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.url, a.domains, a.duplicates, a.keep_duplicates, keep_archive=a.keep_archive, quiet=a.quiet)


if __name__ == "__main__":
    C.run_main(main)
