"""Lay out Flickr30k as oodgen.data.captions reads it: <root>/flickr30k/flickr30k-images/*.jpg + captions.

    python data_scripts/flickr30k.py --images flickr30k-images.tar.gz --captions results_20130124.token
    python data_scripts/flickr30k.py --images DIR --captions results.csv [--karpathy]

MANUAL STEP (licence): the Flickr30k images may only be obtained by agreeing to the Flickr terms of use.
Fill in the request form linked from https://shannon.cs.illinois.edu/DenotationGraph/ (Young et al., TACL
2014); you receive links to `flickr30k-images.tar.gz` (31,783 JPEGs) and `flickr30k.tar.gz` (captions,
`results_20130124.token`). Download both, then run this script with --images and --captions (archives or
already extracted files/folders). Kaggle's copy (`flickr30k_images/` with `results.csv`) works the same way.

Captions are stored as `results.csv` (`image_name| comment_number| comment`, converted from the `.token`
file when needed). `--karpathy` also fetches Karpathy's splits (`dataset_flickr30k.json`, from
caption_datasets.zip, no form needed), which oodgen.data.captions then prefers. The script checks that every
captioned image is there and reports the counts (31,783 images, 158,915 captions for the full set).
"""
import shutil, sys, tarfile, zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

KARPATHY_URL = "https://cs.stanford.edu/people/karpathy/deepimagesent/caption_datasets.zip"
FULL_IMAGES = 31783
FORM = ("Flickr30k needs a licence form: request it via https://shannon.cs.illinois.edu/DenotationGraph/, download "
        "flickr30k-images.tar.gz and flickr30k.tar.gz, then run: python data_scripts/flickr30k.py --images "
        "flickr30k-images.tar.gz --captions flickr30k.tar.gz")


def _unpack(path: Path, tmp: Path) -> Path:
    "An archive is extracted into `tmp`; a file or folder is returned as is."
    if path.is_dir() or not (zipfile.is_zipfile(path) or tarfile.is_tarfile(path)): return path
    return C.extract(path, tmp / path.name.split(".")[0], quiet=True)


def _image_dir(path: Path) -> Path:
    "The folder holding the most .jpg files under `path`."
    best, n = None, 0
    for d in [path, *[p for p in path.rglob("*") if p.is_dir()]]:
        k = sum(1 for _ in d.glob("*.jpg"))
        if k > n: best, n = d, k
    if not best: raise C.LayoutError(f"no .jpg images under {path}")
    return best


def read_captions(path: Path) -> dict:
    "image name -> {number: caption} from results_20130124.token or results.csv."
    caps: dict = {}
    with open(path, encoding="utf-8") as f:
        first = f.readline()
        if "image_name" in first:   # results.csv: 'image_name| comment_number| comment'
            for line in f:
                parts = [p.strip() for p in line.rstrip("\n").split("|", 2)]
                if len(parts) == 2: num, _, text = parts[1].partition(" "); parts = [parts[0], num, text]
                if len(parts) == 3 and parts[1].isdigit(): caps.setdefault(parts[0], {})[int(parts[1])] = parts[2]
        else:                       # results_20130124.token: '<image>.jpg#<n>\t<caption>'
            for line in [first, *f]:
                if not line.strip(): continue
                key, _, text = line.rstrip("\n").partition("\t")
                img, _, num = key.partition("#")
                if not num.isdigit(): raise C.LayoutError(f"{path}: {line[:60]!r} is not '<image>.jpg#<n>\\t<caption>'")
                caps.setdefault(img, {})[int(num)] = text.strip()
    if not caps: raise C.LayoutError(f"{path} holds no captions")
    return caps


def _find_captions(path: Path) -> Path:
    if path.is_file(): return path
    for name in ("results_20130124.token", "results.csv"):
        hits = sorted(path.rglob(name))
        if hits: return hits[0]
    raise C.LayoutError(f"no results_20130124.token or results.csv under {path}")


def prepare(root, images=None, captions=None, url=None, karpathy: bool = False, karpathy_url: str = KARPATHY_URL,
            quiet=False, allow_partial: bool = True, **kw):
    "Lay out Flickr30k from the files obtained after the licence form; returns <root>/flickr30k."
    root = Path(root).expanduser(); target = root / "flickr30k"
    if (info := C.is_done(target)) is not None:
        C.report(f"Flickr30k: already prepared in {target} ({info.get('time')}); nothing to do", quiet); return target
    if images is None and url is None: raise FileNotFoundError(FORM + " (--images is missing)")
    if captions is None: raise FileNotFoundError(FORM + " (--captions is missing)")
    tmp = root / "_tmp_flickr30k"
    if tmp.exists(): shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    if images is None: images = C.download(url, root / "_downloads" / Path(url.split("?")[0]).name, quiet=quiet, **kw)
    images, captions = Path(images).expanduser(), Path(captions).expanduser()
    for p, flag in ((images, "--images"), (captions, "--captions")):
        if not p.exists(): raise FileNotFoundError(f"{flag} {p} does not exist. {FORM}")
    img_dir = _image_dir(_unpack(images, tmp))
    caps = read_captions(_find_captions(_unpack(captions, tmp)))
    names = {p.name for p in img_dir.glob("*.jpg")}
    missing = sorted(set(caps) - names)
    if missing and not allow_partial:
        raise C.LayoutError(f"{len(missing)} captioned images are not in {img_dir} (e.g. {missing[:3]})")
    out_imgs = target / "flickr30k-images"; out_imgs.parent.mkdir(parents=True, exist_ok=True)
    if out_imgs.exists(): shutil.rmtree(out_imgs)
    if images.is_dir(): shutil.copytree(img_dir, out_imgs)       # the user's folder stays as it is
    else: shutil.move(str(img_dir), str(out_imgs))
    with open(target / "results.csv.tmp", "w", encoding="utf-8", newline="") as f:
        f.write("image_name| comment_number| comment\n")
        for img in sorted(caps):
            for k in sorted(caps[img]): f.write(f"{img}| {k}| {caps[img][k]}\n")
    (target / "results.csv.tmp").replace(target / "results.csv")
    if karpathy:
        z = C.download(karpathy_url, root / "_downloads" / "caption_datasets.zip", quiet=quiet, **kw)
        with zipfile.ZipFile(z) as zz:
            name = next(n for n in zz.namelist() if n.endswith("dataset_flickr30k.json"))
            (target / "dataset_flickr30k.json").write_bytes(zz.read(name))
    shutil.rmtree(tmp, ignore_errors=True)
    n_caps = sum(len(v) for v in caps.values())
    summary = dict(images=len(names), captioned_images=len(caps), captions=n_caps, missing_images=len(missing))
    if len(names) != FULL_IMAGES:
        C.report(f"Flickr30k: note: {len(names)} images, the full set has {FULL_IMAGES}", quiet)
    if missing: C.report(f"Flickr30k: warning: {len(missing)} captioned images are missing (e.g. {missing[:3]})", quiet)
    C.mark_done(target, name="Flickr30k", **summary)
    C.report(f"Flickr30k: ready in {target} ({summary})", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, None, sha256=False)
    ap.add_argument("--images", default=None, help="flickr30k-images.tar.gz / .zip or the extracted folder")
    ap.add_argument("--captions", default=None, help="results_20130124.token, results.csv, or the archive holding it")
    ap.add_argument("--karpathy", action="store_true", help="also fetch Karpathy's dataset_flickr30k.json")
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.images or a.archive, a.captions, a.url, a.karpathy, quiet=a.quiet)


if __name__ == "__main__":
    C.run_main(main)
