"""Shared pieces of the OOD-set scripts: where they go (`<root>/ood/<name>/`) and the image-folder check.

Every OOD set lands in `<root>/ood/<name>/` (images in any sub-folders, or SVHN's `test_32x32.mat`), which
`oodgen.data.ood_sets.ood_dataset(name)` reads: one interface, `(image, -1)` rows.
"""
from pathlib import Path

import _common as C

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def folder(name: str) -> str:
    return f"ood/{name}"


def count_images(path) -> int:
    return sum(1 for p in Path(path).rglob("*") if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def check_images(min_images: int = 1):
    "A check for prepare_archive: at least `min_images` images anywhere under the folder."
    def check(path):
        n = count_images(path)
        if n < min_images: raise C.LayoutError(f"{path} holds {n} images, expected at least {min_images}")
        return {"images": n}
    return check


def image_root(tmp, name_hint: str):
    "The extracted folder holding the images: a folder named like the set, else the only top-level folder, else tmp."
    tmp = Path(tmp)
    for p in sorted(tmp.rglob("*")):
        if p.is_dir() and p.name.lower() == name_hint.lower() and count_images(p): return p
    subs = [p for p in tmp.iterdir() if p.is_dir() and not p.name.startswith("__MACOSX")]
    return subs[0] if len(subs) == 1 else tmp
