"""Download ImageNet-V2 (matched-frequency) into <root>/imagenet_shift/imagenet_v2/<class index 0..999>/<image>.

    python data_scripts/imagenet_v2.py [--root DIR] [--url URL] [--archive imagenetv2-matched-frequency.tar.gz]

Source: the authors' Hugging Face copy, https://huggingface.co/datasets/vaishaal/ImageNetV2 (Recht et al., ICML 2019,
https://github.com/modestyachts/ImageNetV2; the earlier S3 bucket imagenetv2public is the same file): 10,000 new
test images, 10 per class, folders named by the ImageNet class index; a .tar.gz of about 1.2 GB. No checksum is
published: the SHA-256 of the first download is printed and stored in the done marker. Licence: the images were
collected from Flickr like ImageNet's; research use, as ImageNet's terms.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _imagenet as I

URL = "https://huggingface.co/datasets/vaishaal/ImageNetV2/resolve/main/imagenetv2-matched-frequency.tar.gz"
MD5 = None


prepare, main = I.class_set(__doc__, "ImageNet-V2", "imagenet_v2", "imagenetv2-matched-frequency.tar.gz",
                            lambda: [str(i) for i in range(1000)], URL, MD5)

if __name__ == "__main__":
    C.run_main(main)
