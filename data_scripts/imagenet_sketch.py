"""Download ImageNet-Sketch into <root>/imagenet_shift/imagenet_sketch/<wnid>/<image> (all 1,000 ImageNet classes).

    python data_scripts/imagenet_sketch.py [--root DIR] [--url URL] [--archive ImageNet-Sketch.zip]

Source: the authors' Google Drive file (Wang et al., NeurIPS 2019, https://github.com/HaohanWang/ImageNet-Sketch),
https://drive.google.com/open?id=1Mj0i5HBthqH1p_yeXzsg22gZduvgoNeA : about 50,000 black-and-white sketches, 50 per
class, in `sketch/<wnid>/`; the zip is 7.8 GB (8.4 GB extracted, as the authors state). No checksum is published:
the SHA-256 is printed and stored in the done marker. If Google Drive refuses (quota, HTML page), download the
zip in a browser and pass it with --archive. Licence: images found with Google Image search; research use.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

URL = C.drive_url("1Mj0i5HBthqH1p_yeXzsg22gZduvgoNeA")
MD5 = None


prepare, main = I.class_set(__doc__, "ImageNet-Sketch", "imagenet_sketch", "ImageNet-Sketch.zip",
                            lambda: I.wnids("imagenet"), URL, MD5)

if __name__ == "__main__":
    C.run_main(main)
