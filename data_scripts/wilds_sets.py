"""Download WILDS sets (Waterbirds, Camelyon17, iWildCam, FMoW) with the `wilds` package's own code into
<root>/wilds/<set>_v<version>/, the layout `oodgen.data.domains.WildsDataset` reads.

    python data_scripts/wilds_sets.py waterbirds [camelyon17 iwildcam fmow] [--root DIR]

Needs `pip install wilds` (the package and its dependencies ogb, outdated, littleutils, pytz: about 5 MB). Sizes of
the archives (WILDS 2.0's `compressed_size`): Camelyon17 v1.0 10.7 GB, iWildCam v2.0 12.0 GB, FMoW v1.1 53.9 GB;
Waterbirds v1.0: no size given (11,788 images). The archives come from the WILDS CodaLab worksheets; WILDS
publishes no checksums and checks none, so this script checks that each copy then loads (`download=False`) and
records its number of rows in <set>_v<version>/.oodgen_done. Licences: Waterbirds is built from CUB-200-2011 and
Places (research use); Camelyon17 CC0; iWildCam: the iWildCam 2020 competition's terms (CDLA-permissive); FMoW:
the fMoW licence (CC BY 4.0 / the IARPA terms); see https://wilds.stanford.edu/datasets/ .
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

SETS = ("waterbirds", "camelyon17", "iwildcam", "fmow")


def _import_wilds():
    try:
        import wilds
    except ModuleNotFoundError as e:
        if e.name != "wilds": raise
        raise FileNotFoundError("the WILDS data sets need the wilds package: pip install wilds") from None
    return wilds


def prepare(root, names=SETS, url: str | None = None, quiet=False) -> list:
    """Download (WILDS' own code) and check each set of `names` into <root>/wilds; returns the set folders.

    `url` replaces WILDS' download URL (a mirror; one set at a time)."""
    wilds, where, out = _import_wilds(), Path(root).expanduser() / "wilds", []
    unknown = [n for n in names if n not in SETS]
    if unknown: raise ValueError(f"unknown WILDS set(s) {unknown}; known: {', '.join(SETS)}")
    if url and len(names) != 1: raise ValueError("--url is a mirror of one set's archive: name one set")
    for name in names:
        cls = _dataset_class(name)
        version = max(cls._versions_dict, key=lambda v: tuple(map(int, v.split("."))))
        folder = where / f"{name}_v{version}"
        if (info := C.is_done(folder)) is not None:
            C.report(f"WILDS {name}: already prepared in {folder} ({info.get('time')}); nothing to do", quiet); out.append(folder); continue
        original = cls._versions_dict
        if url: cls._versions_dict = {**original, version: {**original[version], "download_url": url}}
        where.mkdir(parents=True, exist_ok=True)
        try:
            wilds.get_dataset(name, download=True, root_dir=str(where))     # WILDS prints any download error and goes on
            ds = wilds.get_dataset(name, download=False, root_dir=str(where))
        except Exception as e:
            raise C.LayoutError(f"WILDS {name} did not load after the download into {folder} ({type(e).__name__}: {e}); "
                                f"delete {folder} and run this script again, or download it by hand from "
                                f"https://wilds.stanford.edu/downloads") from None
        finally: cls._versions_dict = original
        C.mark_done(folder, name=f"WILDS {name}", version=version, url=url or original[version]["download_url"],
                    rows=len(ds), note="WILDS publishes no checksum; the copy was checked by loading it")
        C.report(f"WILDS {name}: ready in {folder} ({len(ds)} rows)", quiet); out.append(folder)
    return out


def _dataset_class(name: str):
    import importlib
    mod = {"waterbirds": ("waterbirds_dataset", "WaterbirdsDataset"), "camelyon17": ("camelyon17_dataset", "Camelyon17Dataset"),
           "iwildcam": ("iwildcam_dataset", "IWildCamDataset"), "fmow": ("fmow_dataset", "FMoWDataset")}[name]
    return getattr(importlib.import_module(f"wilds.datasets.{mod[0]}"), mod[1])


def main(argv=None):
    ap = C.parser(__doc__, None, archive=False, sha256=False)
    ap.add_argument("names", nargs="*", default=list(SETS), help=f"sets to download (default: all of {', '.join(SETS)})")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.names, a.url, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
