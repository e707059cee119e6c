"""Build ImageNet-100 (the 100 classes of CMC, Tian et al. 2020) from your ImageNet copy:
<root>/imagenet_shift/imagenet_100/{train,val}/<wnid>/ (links to your class folders, or copies with --copy).

    python data_scripts/imagenet_100.py --imagenet path/to/imagenet [--root DIR] [--copy]

ImageNet (ILSVRC-2012) itself is downloaded by hand from https://image-net.org after accepting its terms
(non-commercial research and education only); `--imagenet` is the folder holding train/<wnid>/ and val/<wnid>/
(the validation images sorted into class folders, e.g. by the usual valprep.sh). The class list is CMC's
imagenet100.txt (https://github.com/HobbitLong/CMC), shipped in oodgen/assets/imagenet100_cmc.txt: about 126,700
training and 5,000 validation images (about 13 GB if copied).
"""
import os, shutil, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I


def prepare(root, imagenet=None, copy: bool = False, quiet=False) -> Path:
    "Link (or copy) the 100 CMC classes of train/ and val/; returns <root>/imagenet_shift/imagenet_100."
    target = Path(root).expanduser() / I.folder("imagenet_100")
    if (info := C.is_done(target)) is not None:
        C.report(f"ImageNet-100: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    if imagenet is None:
        raise FileNotFoundError("ImageNet-100 is built from your ImageNet copy (download it from https://image-net.org "
                                "after accepting its terms): pass the folder holding train/<wnid>/ and val/<wnid>/ with --imagenet")
    src, classes, summary = Path(imagenet).expanduser().resolve(), I.wnids("imagenet_100"), {}
    for split in ("train", "val"):
        missing = [c for c in classes if not (src / split / c).is_dir()]
        if missing: raise C.LayoutError(f"{src / split} lacks {len(missing)} of the 100 class folders (e.g. {missing[:3]}); "
                                        f"expected <imagenet>/{split}/<wnid>/ (sort val/ into class folders first)")
    tmp = target.with_name("_tmp_imagenet_100")
    if tmp.exists(): shutil.rmtree(tmp)
    from tqdm.auto import tqdm
    for split in ("train", "val"):
        (tmp / split).mkdir(parents=True)
        for c in tqdm(classes, desc=f"ImageNet-100 {split}", disable=quiet, leave=False):
            if copy: shutil.copytree(src / split / c, tmp / split / c)
            else: os.symlink(src / split / c, tmp / split / c, target_is_directory=True)
        summary[split] = I.check_classes(classes)(tmp / split)
    if target.exists(): shutil.rmtree(target)
    shutil.move(str(tmp), str(target))
    C.mark_done(target, name="ImageNet-100", source=str(src), copied=copy, summary=summary)
    C.report(f"ImageNet-100: ready in {target} ({summary})", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, None, archive=False, sha256=False)
    ap.add_argument("--imagenet", default=None, help="your ImageNet folder with train/<wnid>/ and val/<wnid>/")
    ap.add_argument("--copy", action="store_true", help="copy the images instead of linking the class folders")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.imagenet, a.copy, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
