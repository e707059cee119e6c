"""Download ImageNet-R(endition) into <root>/imagenet_shift/imagenet_r/<wnid>/<image> (200 ImageNet classes).

    python data_scripts/imagenet_r.py [--root DIR] [--url URL] [--archive imagenet-r.tar]

Source: https://people.eecs.berkeley.edu/~hendrycks/imagenet-r.tar (Hendrycks et al., ICCV 2021,
https://github.com/hendrycks/imagenet-r): 30,000 renditions (art, cartoons, sketches, toys, ...) of 200 classes,
a tar of about 2.1 GB. The authors publish no checksum; the MD5 below is the one torchvision-style loaders pin
(e.g. the `ImageNetR` classes with `tgz_md5 = a6131213...`). Licence: research use; the images keep their owners'
copyright. The 200 classes' ImageNet indices are timm's `imagenet_r_indices.txt` (`oodgen.data.domains`).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

URL = "https://people.eecs.berkeley.edu/~hendrycks/imagenet-r.tar"
MD5 = "a61312130a589d0ca1a8fca1f2bd3337"


prepare, main = I.class_set(__doc__, "ImageNet-R", "imagenet_r", "imagenet-r.tar",
                            lambda: I.wnids("imagenet_r"), URL, MD5)

if __name__ == "__main__":
    C.run_main(main)
