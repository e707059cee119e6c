"""Prepare ObjectNet for ImageNet models: <root>/imagenet_shift/objectnet/ with `images` (a link to your copy's
images/<folder>/) and `objectnet_to_imagenet.json` ({folder: [ImageNet class indices]}) for the 113 ObjectNet
classes that overlap ImageNet-1k.

    python data_scripts/objectnet.py --folder path/to/objectnet-1.0 [--root DIR]

ObjectNet (Barbu et al., NeurIPS 2019, https://objectnet.mit.edu) is downloaded by hand: objectnet-1.0.zip (about
184 GB, 50,000 images of 313 classes) from the ObjectNet site, a password-protected zip whose password the download
page gives; unzip it yourself. Its licence allows testing only: ObjectNet may not be used to train or fine-tune
models, and its images may not be redistributed. No checksum is published. The mapping follows the release's
`mappings/` files the way WiSE-FT / model-soups do (objectnet_to_imagenet_1k.json names ImageNet classes by their
2012 labels; imagenet_to_label_2012_v2 and pytorch_to_imagenet_2012_id.json turn them into class indices); a
prediction counts as right when it is any ImageNet class mapped to the image's ObjectNet class. ObjectNet's images
carry a 1-pixel red border: `oodgen.data.domains` crops 2 pixels on each side, as those loaders do.
"""
import json, os, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

MAPPINGS = ("folder_to_objectnet_label.json", "objectnet_to_imagenet_1k.json", "pytorch_to_imagenet_2012_id.json",
            "imagenet_to_label_2012_v2")


def imagenet_indices(mappings) -> dict:
    "{ObjectNet folder: [ImageNet-1k class indices]} for the ObjectNet classes that overlap ImageNet."
    m = Path(mappings)
    folder_of = {label: folder for folder, label in json.loads((m / MAPPINGS[0]).read_text()).items()}
    to_imagenet = json.loads((m / MAPPINGS[1]).read_text())
    index_of_id = {int(v): int(k) for k, v in json.loads((m / MAPPINGS[2]).read_text()).items()}
    index_of_name = {line.strip(): index_of_id[i] for i, line in enumerate((m / MAPPINGS[3]).read_text().splitlines())}
    out = {}
    for label, names in to_imagenet.items():
        unknown = [n for n in names.split("; ") if n not in index_of_name]
        if unknown: raise C.LayoutError(f"{m / MAPPINGS[1]}: ImageNet class name(s) {unknown} are not in {MAPPINGS[3]}")
        out[folder_of[label]] = sorted(index_of_name[n] for n in names.split("; "))
    return dict(sorted(out.items()))


def prepare(root, source=None, quiet=False) -> Path:
    "Link your unzipped ObjectNet (`source` holds images/ and mappings/) and write its ImageNet mapping; returns the folder."
    target = Path(root).expanduser() / I.folder("objectnet")
    if (info := C.is_done(target)) is not None:
        C.report(f"ObjectNet: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    if source is None:
        raise FileNotFoundError("ObjectNet is downloaded by hand (its licence allows testing only): get objectnet-1.0.zip "
                                "from https://objectnet.mit.edu, unzip it with the password its download page gives, and "
                                "pass the objectnet-1.0 folder with --folder")
    source = Path(source).expanduser().resolve()
    missing = [f for f in ("images",) + tuple(f"mappings/{m}" for m in MAPPINGS) if not (source / f).exists()]
    if missing: raise C.LayoutError(f"{source} is not an unzipped objectnet-1.0 folder: missing {', '.join(missing)}")
    mapping = imagenet_indices(source / "mappings")
    absent = [f for f in mapping if not (source / "images" / f).is_dir()]
    if absent: raise C.LayoutError(f"{source / 'images'} lacks the class folder(s) {absent[:5]} named in its mappings")
    target.mkdir(parents=True, exist_ok=True)
    if (target / "images").is_symlink(): (target / "images").unlink()
    os.symlink(source / "images", target / "images", target_is_directory=True)
    (target / "objectnet_to_imagenet.json").write_text(json.dumps(mapping, indent=1) + "\n")
    labels = json.loads((source / "mappings" / MAPPINGS[0]).read_text())
    (target / "labels.json").write_text(json.dumps({f: labels[f] for f in mapping}, indent=1) + "\n")
    n = sum(1 for f in mapping for p in (source / "images" / f).iterdir() if p.suffix.lower() in I.C_EXTS)
    C.mark_done(target, name="ObjectNet", source=str(source), classes=len(mapping), images=n,
                note="licence: testing only, no training or fine-tuning; no checksum published")
    C.report(f"ObjectNet: ready in {target} ({len(mapping)} classes overlapping ImageNet, {n} images)", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, None, archive=False, sha256=False)
    ap.add_argument("--folder", default=None, help="your unzipped objectnet-1.0 folder (holding images/ and mappings/)")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.folder, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
