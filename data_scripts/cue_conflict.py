"""Download the 1,280 cue-conflict images of Geirhos et al. (ICLR 2019) into <root>/cue-conflict/<shape>/<name>.png.

    python data_scripts/cue_conflict.py [--root DIR] [--url URL] [--archive cue-conflict.tar.gz]

Source: bethgelab/model-vs-human's release asset `cue-conflict.tar.gz` (16 shape categories x 80 style-transferred
images; the file name `<shape>N-<texture>M.png` gives the texture category). No checksum is published: the
SHA-256 of the first download is printed and stored in cue-conflict/.oodgen_done. `oodgen run probes -p
cue_conflict_root <root>/cue-conflict` then measures the ImageNet models' shape bias on it.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "https://github.com/bethgelab/model-vs-human/releases/download/v0.1/cue-conflict.tar.gz"
SHA256 = None
CATEGORIES = ("airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat", "chair", "clock", "dog", "elephant",
              "keyboard", "knife", "oven", "truck")   # modelvshuman.helper.human_categories, sorted


def check(folder) -> dict:
    "Every category folder present with images (1,280 in all in the real set)."
    n = C.check_domain_layout(Path(folder).parent, [Path(folder).name])   # <folder>/<category>/<image>
    cats = sorted(p.name for p in Path(folder).iterdir() if p.is_dir())
    if cats != list(CATEGORIES): raise C.LayoutError(f"{folder}: category folders {cats}, expected {list(CATEGORIES)}")
    return {"images": n[Path(folder).name]}


def prepare(root, url: str = URL, archive=None, sha256: str | None = SHA256, keep_archive=False, quiet=False, **kw):
    "Download, check and lay out the cue-conflict images; returns <root>/cue-conflict."
    return C.prepare_archive(name="cue-conflict", root=root, folder="cue-conflict", url=url, filename="cue-conflict.tar.gz",
                             archive=archive, sha256=sha256, keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: C.find_dir(tmp, CATEGORIES), check=check, **kw)


def main(argv=None):
    a = C.parser(__doc__, URL).parse_args(argv)
    prepare(C.root_of(a), a.url, a.archive, a.sha256 or SHA256, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
