"""Lay out NICO++ or NICO in the DomainBed layout, contexts as domains: <root>/<folder>/<context>/<class>/<image>.

    python data_scripts/nico.py --variant nico_pp --archive NICO_pp_track1.zip [--root DIR]
    python data_scripts/nico.py --variant nico_animal --archive NICO.zip [--root DIR]   # or nico_vehicle

NICO++ (Zhang et al., CVPR 2023, https://github.com/xxgege/NICO-plus): the domain-generalization release (the NICO
challenge's track 1, about 89k training images, 60 classes) holds `track_1/public_dg_0416/train/<context>/<class>/`
with the six common contexts autumn, dim, grass, outdoor, rock, water: already DomainBed's layout, moved to
<root>/NICO_pp/. NICO (He et al., 2020, https://nico.thumedialab.com): `Animal/<class>/<context>/` and
`Vehicle/<class>/<context>/` (10 classes each, about 25k images in all), rearranged here to
<root>/NICO_animal/<context>/<class>/ and <root>/NICO_vehicle/<context>/<class>/. NICO's contexts are chosen per
class (`on snow`, `in water`, ...), so most context domains hold only some of the classes; NICO++'s are shared.

Both are downloaded by hand: NICO++ after accepting its terms at https://nicochallenge.com/dataset (research use
only; the images keep their owners' copyright), NICO from its page. Pass the zip with --archive (or a direct mirror
with --url). No checksums are published: the SHA-256 is printed and stored in the done marker.
"""
import shutil, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

NICO_PP_DOMAINS = ("autumn", "dim", "grass", "outdoor", "rock", "water")
VARIANTS = {"nico_pp": ("NICO++", "NICO_pp", None), "nico_animal": ("NICO animal", "NICO_animal", "Animal"),
            "nico_vehicle": ("NICO vehicle", "NICO_vehicle", "Vehicle")}
PAGES = {"nico_pp": "https://nicochallenge.com/dataset", "nico_animal": "https://nico.thumedialab.com",
         "nico_vehicle": "https://nico.thumedialab.com"}


def by_context(tmp, superclass: str) -> Path:
    "Move `<superclass>/<class>/<context>/<image>` (found anywhere under `tmp`) to `tmp/_by_context/<context>/<class>/<image>`."
    src = C.find_dir(tmp, [superclass]) / superclass
    out = Path(tmp) / "_by_context"
    for cls in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX"))):
        for ctx in sorted(p for p in cls.iterdir() if p.is_dir()):
            dest = out / ctx.name.strip() / cls.name
            dest.mkdir(parents=True, exist_ok=True)
            for img in ctx.iterdir():
                if img.is_file() and not img.name.startswith("."): shutil.move(str(img), str(dest / img.name))
    if not out.exists(): raise C.LayoutError(f"{src} holds no <class>/<context>/<image> folders")
    return out


def check_contexts(path):
    "Every context folder holds class folders with images; returns {context: images}."
    return C.check_domain_layout(path, sorted(p.name for p in Path(path).iterdir() if p.is_dir() and not p.name.startswith(".")))


def prepare(root, variant: str = "nico_pp", archive=None, url: str | None = None, sha256: str | None = None,
            keep_archive=False, quiet=False, **kw) -> Path:
    "Lay out NICO++ (`nico_pp`) or NICO's animals / vehicles from the released zip; returns <root>/<folder>."
    if variant not in VARIANTS: raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    name, folder, superclass = VARIANTS[variant]
    if archive is None and url is None and C.is_done(Path(root).expanduser() / folder) is None:
        raise FileNotFoundError(f"{name} is downloaded by hand: accept its terms at {PAGES[variant]}, download the zip "
                                f"and pass it with --archive PATH (or a direct mirror with --url)")
    locate = (lambda tmp: C.find_dir(tmp, NICO_PP_DOMAINS)) if superclass is None else (lambda tmp: by_context(tmp, superclass))
    check = (lambda p: C.check_domain_layout(p, NICO_PP_DOMAINS)) if superclass is None else check_contexts
    return C.prepare_archive(name=name, root=root, folder=folder, url=url, filename=f"{folder}.zip", archive=archive,
                             sha256=sha256, keep_archive=keep_archive, quiet=quiet, locate=locate, check=check, **kw)


def main(argv=None):
    ap = C.parser(__doc__, None)
    ap.add_argument("--variant", default="nico_pp", choices=list(VARIANTS))
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.variant, a.archive, a.url, a.sha256, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
