"""Build TerraIncognita as DomainBed does: <root>/terra_incognita/location_{100,38,43,46}/<class>/<image>.

    python data_scripts/terra_incognita.py [--root DIR] [--url IMAGES_URL] [--annotations-url URL]
                                           [--archive eccv_18_all_images_sm.tar.gz] [--annotations FILE.json|.zip]

Source: Caltech Camera Traps on LILA (Beery et al., ECCV 2018, "Recognition in Terra Incognita"),
https://lila.science/datasets/caltech-camera-traps . DomainBed's steps (domainbed/scripts/download.py):

1. download the ECCV-2018 image subset `eccv_18_all_images_sm.tar.gz` (about 6 GB) and the image-level
   labels `caltech_camera_traps.json.zip` (holding `caltech_images_20210113.json`);
2. keep the images of camera locations 38, 46, 100 and 43 whose label is one of bird, bobcat, cat, coyote,
   dog, empty, opossum, rabbit, raccoon, squirrel;
3. copy each to `location_<loc>/<label>/<file name>` (an image with two labels goes to both folders).

This script does all three, reading only the needed images out of the tar. If the links have moved (LILA
has changed hosts before), download both files from the LILA page above by hand and pass them with --archive
and --annotations. No checksums are published: the SHA-256s are printed and stored in the done marker.
"""
import json, shutil, sys, tarfile, zipfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

URL = "https://storage.googleapis.com/public-datasets-lila/caltechcameratraps/eccv_18_all_images_sm.tar.gz"
ANNOTATIONS_URL = "https://storage.googleapis.com/public-datasets-lila/caltechcameratraps/labels/caltech_camera_traps.json.zip"
LOCATIONS = ("38", "46", "100", "43")
CATEGORIES = ("bird", "bobcat", "cat", "coyote", "dog", "empty", "opossum", "rabbit", "raccoon", "squirrel")


def load_annotations(path) -> dict:
    "The COCO-camera-traps JSON, from a .json file or a .zip holding one."
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(".json")]
            if not names: raise C.LayoutError(f"{path} holds no .json file")
            return json.loads(z.read(names[0]))
    return json.loads(path.read_text())


def selection(data: dict) -> dict:
    "file name -> [(location, category)] for DomainBed's locations and categories."
    cats = {c["id"]: c["name"] for c in data["categories"]}
    anns = defaultdict(list)
    for a in data["annotations"]: anns[a["image_id"]].append(cats[a["category_id"]])
    out = defaultdict(list)
    for im in data["images"]:
        loc = str(im["location"])
        if loc not in LOCATIONS: continue
        for cat in anns.get(im["id"], []):
            if cat in CATEGORIES and (loc, cat) not in out[im["file_name"]]: out[im["file_name"]].append((loc, cat))
    return dict(out)


def prepare(root, url: str = URL, annotations_url: str = ANNOTATIONS_URL, archive=None, annotations=None,
            keep_archive=False, quiet=False, **kw):
    "Download (or take) the images and labels, and lay out the DomainBed subset; returns <root>/terra_incognita."
    s = C.spec("terra_incognita"); root = Path(root).expanduser(); target = root / s.folder
    if (info := C.is_done(target)) is not None:
        C.report(f"TerraIncognita: already prepared in {target} ({info.get('time')}); nothing to do", quiet)
        return target
    dl = root / "_downloads"
    ann = Path(annotations) if annotations else C.download(annotations_url, dl / "caltech_camera_traps.json.zip",
                                                             quiet=quiet, **kw)
    imgs = Path(archive) if archive else C.download(url, dl / "eccv_18_all_images_sm.tar.gz", quiet=quiet, **kw)
    for p, flag in ((ann, "--annotations"), (imgs, "--archive")):
        if not p.exists(): raise FileNotFoundError(f"{flag} {p} does not exist")
    sel = selection(load_annotations(ann))
    if not sel: raise C.LayoutError(f"{ann} lists no images of locations {LOCATIONS} with DomainBed's categories")
    tmp = root / f"_tmp_{s.folder}"
    if tmp.exists(): shutil.rmtree(tmp)
    from tqdm.auto import tqdm
    found, stats = set(), Counter()
    with tarfile.open(imgs, "r:*") as t:
        for m in tqdm(t, desc="scan images", disable=quiet, leave=False):
            name = Path(m.name).name
            if not m.isfile() or name not in sel: continue
            data = t.extractfile(m).read(); found.add(name)
            for loc, cat in sel[name]:
                d = tmp / f"location_{loc}" / cat; d.mkdir(parents=True, exist_ok=True)
                (d / name).write_bytes(data); stats[f"location_{loc}"] += 1
    missing = len(sel) - len(found)
    if missing: C.report(f"TerraIncognita: warning: {missing} selected images are not in {imgs.name}", quiet)
    counts = C.check_domain_layout(tmp, s.domains, s.classes, exact_classes=False)
    if target.exists(): target.rmdir()
    shutil.move(str(tmp), str(target))
    C.mark_done(target, name="TerraIncognita", images=imgs.name, images_sha256=C.file_hash(imgs),
                annotations=ann.name, annotations_sha256=C.file_hash(ann), counts=counts, missing=missing)
    if not keep_archive:
        for p in (imgs, ann):
            if p.parent == dl: p.unlink()
    C.report(f"TerraIncognita: ready in {target} ({counts})", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, URL, sha256=False)
    ap.add_argument("--annotations-url", default=ANNOTATIONS_URL, help="URL of caltech_camera_traps.json.zip")
    ap.add_argument("--annotations", default=None, help="local caltech_camera_traps.json(.zip)")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.url, a.annotations_url, a.archive, a.annotations, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
