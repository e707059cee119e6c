"""Shared by cifar10_c.py and cifar100_c.py: the released CIFAR-C layout and its check."""
from pathlib import Path

import _common as C

CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
               "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
               "jpeg_compression", "speckle_noise", "gaussian_blur", "spatter", "saturate")


def checker(block_size: int = 10000):
    "A check of `<folder>/<corruption>.npy` uint8 (5 * block_size, 32, 32, 3) and labels.npy (5 * block_size,)."
    def check(path):
        import numpy as np
        path, n, problems = Path(path), 5 * block_size, []
        for name in CORRUPTIONS + ("labels",):
            f = path / f"{name}.npy"
            if not f.exists(): problems.append(f"missing {f.name}"); continue
            a = np.load(f, mmap_mode="r")
            want = (n,) if name == "labels" else (n, 32, 32, 3)
            if a.shape != want or (name != "labels" and a.dtype != np.uint8):
                problems.append(f"{f.name} is {a.dtype} {a.shape}, expected {want}")
        if problems: raise C.LayoutError(f"{path}: " + "; ".join(problems))
        return f"{len(CORRUPTIONS)} corruptions x 5 severities x {block_size} images"
    return check


def prepare(name, folder, url, filename, md5, root, archive=None, sha256=None, keep_archive=False, quiet=False,
            block_size: int = 10000, **kw):
    return C.prepare_archive(name=name, root=root, folder=folder, url=url, filename=filename, archive=archive,
                             sha256=sha256, md5=None if sha256 else md5, keep_archive=keep_archive, quiet=quiet,
                             locate=lambda tmp: C.find_dir(tmp, [folder]) / folder, check=checker(block_size), **kw)
