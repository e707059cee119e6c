"""Build ImageNet-100-C from ImageNet-C's released files: <root>/imagenet_shift/imagenet_100_c/<corruption>/<severity>/<wnid>/<image>,
keeping only the 100 classes of ImageNet-100 (CMC's list).

    python data_scripts/imagenet_100_c.py [--root DIR] [--families noise blur weather digital [extra]] [--url BASE]

Source: ImageNet-C (Hendrycks & Dietterich, ICLR 2019) on Zenodo, record 2235448: one tar per family (noise, blur,
weather, digital: the 15 benchmark corruptions; extra: speckle_noise, spatter, gaussian_blur, saturate), each
holding <corruption>/<1..5>/<wnid>/ for the 50,000 validation images; MD5s as listed on Zenodo. The tars are large
(together the full ImageNet-C, tens of GB; Zenodo lists each size); each is streamed once and only the 100 classes
(5,000 images per corruption and severity) are written. A finished family is marked done per corruption folder, so
a rerun skips it; pass --keep-archive to keep the tars. Licence: as ImageNet's validation images (research use).
"""
import shutil, sys, tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

URL = "https://zenodo.org/records/2235448/files"
FAMILIES = {"noise": (("gaussian_noise", "shot_noise", "impulse_noise"), "e80562d7f6c3f8834afb1ecf27252745"),
            "blur": (("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"), "2d8e81fdd8e07fef67b9334fa635e45c"),
            "weather": (("snow", "frost", "fog", "brightness"), "33ffea4db4d93fe4a428c40a6ce0c25d"),
            "digital": (("contrast", "elastic_transform", "pixelate", "jpeg_compression"), "89157860d7b10d5797849337ca2e5c03"),
            "extra": (("speckle_noise", "spatter", "gaussian_blur", "saturate"), "d492dfba5fc162d8ec2c3cd8ee672984")}
BENCHMARK = ("noise", "blur", "weather", "digital")


def member_place(name: str, corruptions, keep) -> tuple | None:
    "(corruption, severity, wnid, file) of a tar member inside <corruption>/<1..5>/<wnid>/ with a kept wnid, else None."
    parts = Path(name).parts
    for i in range(len(parts) - 3):
        c, s, w = parts[i:i + 3]
        if c in corruptions and s in ("1", "2", "3", "4", "5") and w in keep and i + 4 == len(parts):
            return c, s, w, parts[-1]
    return None


def prepare(root, families=BENCHMARK, url: str = URL, md5s: dict | None = None, keep_archive=False, quiet=False, **kw) -> Path:
    "Download each family's tar (MD5-checked), keep the 100 classes; returns <root>/imagenet_shift/imagenet_100_c."
    unknown = [f for f in families if f not in FAMILIES]
    if unknown: raise ValueError(f"unknown ImageNet-C famil(ies) {unknown}; known: {', '.join(FAMILIES)}")
    root = Path(root).expanduser(); target = root / I.folder("imagenet_100_c"); keep = set(I.wnids("imagenet_100"))
    from tqdm.auto import tqdm
    for fam in families:
        corruptions, md5 = FAMILIES[fam][0], (md5s or {}).get(fam, FAMILIES[fam][1])
        if all(C.is_done(target / c) for c in corruptions):
            C.report(f"ImageNet-100-C {fam}: already prepared; nothing to do", quiet); continue
        tar = C.download(f"{url}/{fam}.tar?download=1", root / "_downloads" / f"{fam}.tar", md5=md5, quiet=quiet, **kw)
        tmp = root / f"_tmp_imagenet_100_c_{fam}"
        if tmp.exists(): shutil.rmtree(tmp)
        with tarfile.open(tar, "r:*") as t:
            for m in tqdm(t, desc=f"scan {fam}.tar", disable=quiet, leave=False):
                if not m.isfile() or (place := member_place(m.name, corruptions, keep)) is None: continue
                d = tmp.joinpath(*place[:3]); d.mkdir(parents=True, exist_ok=True)
                C._write(tmp, (d / place[3]).write_bytes, t.extractfile(m).read(), keep=f"{tar} is kept")
        for c in corruptions:
            if not (tmp / c).is_dir(): raise C.LayoutError(f"{tar.name} holds no {c}/<severity>/<wnid>/ images of the 100 classes")
            counts = {s.name: I.check_classes(sorted(keep))(s) for s in sorted((tmp / c).iterdir())}
            if sorted(counts) != ["1", "2", "3", "4", "5"]:
                raise C.LayoutError(f"{tar.name}: {c} has severities {sorted(counts)}, expected 1 .. 5")
            if (target / c).exists(): shutil.rmtree(target / c)
            (target).mkdir(parents=True, exist_ok=True); shutil.move(str(tmp / c), str(target / c))
            C.mark_done(target / c, name=f"ImageNet-100-C {c}", file=tar.name, md5=md5, summary=counts)
        shutil.rmtree(tmp, ignore_errors=True)
        if not keep_archive: tar.unlink()
        C.report(f"ImageNet-100-C {fam}: ready in {target} ({', '.join(corruptions)})", quiet)
    return target


def main(argv=None):
    ap = C.parser(__doc__, URL, archive=False, sha256=False)
    ap.add_argument("--families", nargs="+", default=list(BENCHMARK), choices=list(FAMILIES))
    a = ap.parse_args(argv)
    prepare(C.root_of(a), a.families, a.url, None, a.keep_archive, a.quiet)


if __name__ == "__main__":
    C.run_main(main)
