"""Download ImageNet-A (natural adversarial examples) into <root>/imagenet_shift/imagenet_a/<wnid>/<image> (200 ImageNet classes).

    python data_scripts/imagenet_a.py [--root DIR] [--url URL] [--archive imagenet-a.tar]

Source: https://people.eecs.berkeley.edu/~hendrycks/imagenet-a.tar (Hendrycks et al., CVPR 2021,
https://github.com/hendrycks/natural-adv-examples): 7,500 real photos that ResNet-50s misclassify, 200 classes,
a tar of about 0.7 GB. The authors publish no checksum; the MD5 below is the one torchvision-style loaders pin
(e.g. the `ImageNetA` classes with `tgz_md5 = c3e55429...`). Licence: research use; the images keep their owners'
copyright. The 200 classes' ImageNet indices are timm's `imagenet_a_indices.txt` (`oodgen.data.domains`).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

URL = "https://people.eecs.berkeley.edu/~hendrycks/imagenet-a.tar"
MD5 = "c3e55429088dc681f30d81f4726b6595"


prepare, main = I.class_set(__doc__, "ImageNet-A", "imagenet_a", "imagenet-a.tar",
                            lambda: I.wnids("imagenet_a"), URL, MD5)

if __name__ == "__main__":
    C.run_main(main)
