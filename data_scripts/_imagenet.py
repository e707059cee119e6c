"""Shared by the ImageNet shift-suite scripts: where the sets go (`<root>/imagenet_shift/<name>/`), the ImageNet class
lists (timm's copies: the 1,000 WordNet ids in index order, ImageNet-R's and ImageNet-A's 200; CMC's ImageNet-100
list shipped in `oodgen/assets/imagenet100_cmc.txt`), read as text without importing timm or torch, and the check
that a folder holds exactly the expected class folders."""
import importlib.util
from pathlib import Path

import _common as C

ASSETS = Path(__file__).resolve().parents[1] / "oodgen" / "assets"


def folder(name: str) -> str:
    return f"imagenet_shift/{name}"


def _timm_info(file: str) -> list:
    spec = importlib.util.find_spec("timm")
    if spec is None: raise FileNotFoundError("the ImageNet class lists come with timm: pip install timm")
    return (Path(spec.submodule_search_locations[0]) / "data" / "_info" / file).read_text().split()


def wnids(which: str = "imagenet") -> list:
    "WordNet ids: `imagenet` (1,000, index order), `imagenet_r` / `imagenet_a` (200 each), `imagenet_100` (CMC's 100)."
    if which == "imagenet_100":
        p = ASSETS / "imagenet100_cmc.txt"
        if not p.exists():
            from importlib.resources import files      # an installed oodgen
            p = Path(str(files("oodgen") / "assets" / "imagenet100_cmc.txt"))
        return p.read_text().split()
    return _timm_info({"imagenet": "imagenet_synsets.txt", "imagenet_r": "imagenet_r_synsets.txt",
                       "imagenet_a": "imagenet_a_synsets.txt"}[which])


def check_classes(expected):
    "A check for prepare_archive: exactly the class folders `expected`, each with images; returns {'classes', 'images'}."
    def check(path):
        path = Path(path)
        present = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        missing, extra = sorted(set(expected) - set(present)), sorted(set(present) - set(expected))
        images = sum(1 for c in present for p in (path / c).iterdir() if p.suffix.lower() in C_EXTS)
        problems = ([f"{len(missing)} class folders missing (e.g. {missing[:3]})"] if missing else []) + \
                   ([f"{len(extra)} unexpected folders (e.g. {extra[:3]})"] if extra else []) + ([] if images else ["no images"])
        if problems: raise C.LayoutError(f"{path}: " + "; ".join(problems))
        return {"classes": len(present), "images": images}
    return check


C_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def prepare_class_folders(*, name, target, url, filename, expected, md5=None, sha256=None, archive=None,
                          keep_archive=False, quiet=False, **kw) -> Path:
    "Download, verify, extract; the folder holding the `expected` class folders becomes <root>/imagenet_shift/<target>."
    def locate(tmp):
        return C.find_dir(tmp, expected[:3], max_depth=3)
    return C.prepare_archive(name=name, root=kw.pop("root"), folder=folder(target), url=url, filename=filename,
                             archive=archive, sha256=sha256, md5=None if sha256 else md5, keep_archive=keep_archive,
                             quiet=quiet, locate=locate, check=check_classes(expected), **kw)


def class_set(doc: str, name: str, target: str, filename: str, expected, url, md5):
    "`prepare` and `main` of a one-archive set of class folders; `expected()` gives the class folder names."
    def prepare(root, url: str = url, archive=None, sha256=None, md5: str | None = md5, keep_archive=False, quiet=False, **kw):
        return prepare_class_folders(name=name, target=target, url=url, filename=filename, expected=list(expected()), md5=md5,
                                     sha256=sha256, archive=archive, keep_archive=keep_archive, quiet=quiet, root=root, **kw)
    prepare.__doc__ = f"Download, verify, extract and check {name}; returns <root>/imagenet_shift/{target}."
    def main(argv=None):
        a = C.parser(doc, url).parse_args(argv)
        prepare(C.root_of(a), a.url, a.archive, a.sha256, md5, a.keep_archive, a.quiet)
    return prepare, main
