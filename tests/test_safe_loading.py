"""Safe loading (issue 28): a data file under the data root never runs code, and every PIL image mode becomes the
RGB image it shows (16-bit scaled by 65535, not clipped to white)."""
import io, os, pickle, struct

import numpy as np
import pytest
import torch
from PIL import Image

from oodgen.data.domains import CorruptImageError, UnsafePickleError, get_dataset, load_cifar_pickle, load_image


# ------------------------------------------------------------------------------------------------ CIFAR pickles
class Py2Pickler(pickle._Pickler):
    "Writes bytes as Python 2 `str` (BINSTRING opcodes), as the published CIFAR batches (cPickle, protocol 2) hold them."
    def save_bytes(self, obj):
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)) + obj)
        self.memoize(obj)
    dispatch = {**pickle._Pickler.dispatch, bytes: save_bytes}


def py2_pickle(obj) -> bytes:
    "`obj` pickled the way Python 2's cPickle wrote CIFAR: protocol 2, str as BINSTRING, `numpy.core.multiarray`."
    buf = io.BytesIO(); Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar10_folder(root, n=3, writer=py2_pickle):
    d = root / "cifar-10-batches-py"; d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, f in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        (d / f).write_bytes(writer({b"batch_label": f"batch {i}".encode(), b"labels": [(i + k) % 3 for k in range(n)], b"data": data,
                                    b"filenames": [f"img_{i}_{k}.png".encode() for k in range(n)]}))
    (d / "batches.meta").write_bytes(writer({b"label_names": [c.encode() for c in ("airplane", "automobile", "bird")],
                                             b"num_cases_per_batch": n, b"num_vis": 3072}))
    return d


def test_real_format_cifar_batch_loads(tmp_path):
    d = cifar10_folder(tmp_path)
    assert b"cnumpy.core.multiarray\n_reconstruct" in (d / "test_batch").read_bytes()     # the published files' globals
    b = load_cifar_pickle(d / "test_batch")
    assert b == pickle.loads((d / "test_batch").read_bytes(), encoding="latin1") | {"data": b["data"]}
    assert b["data"].dtype == np.uint8 and b["data"].shape == (3, 3072) and b["batch_label"] == "batch 5"
    ds = get_dataset("cifar10", root=tmp_path)
    assert [len(x) for x in ds.datasets] == [15, 3] and ds.classes == ["airplane", "automobile", "bird"]
    x, y = ds["test"][1]
    assert y == 0 and torch.equal(x, torch.from_numpy(b["data"][1].reshape(3, 32, 32)).float() / 255)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_batches_of_any_protocol_load(tmp_path, protocol):
    a = np.arange(12, dtype=np.uint8).reshape(2, 6)
    (tmp_path / "b").write_bytes(pickle.dumps({"data": a, "labels": [1, 2], "name": b"x"}, protocol=protocol))
    b = load_cifar_pickle(tmp_path / "b")
    assert np.array_equal(b["data"], a) and b["labels"] == [1, 2]


class Payload:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("victim", ["data_batch_1", "batches.meta"])
def test_cifar_pickle_with_code_is_refused_and_runs_nothing(tmp_path, victim):
    d = cifar10_folder(tmp_path); marker = tmp_path / "pwned"
    payload = Payload(marker)
    (d / victim).write_bytes(pickle.dumps({"data": payload, "labels": [1]} if victim != "batches.meta" else payload, protocol=2))
    with pytest.raises(UnsafePickleError) as e: get_dataset("cifar10", root=tmp_path)
    msg = str(e.value)
    assert str(d / victim) in msg and "system" in msg and "data_scripts/cifar10.py" in msg
    assert not marker.exists()
    pickle.loads((d / victim).read_bytes())          # what plain pickle.load did: the file runs its command
    assert marker.exists()


def test_other_reductions_are_refused(tmp_path):
    import collections, subprocess
    for obj in (collections.OrderedDict(a=1), subprocess.Popen, eval):
        (tmp_path / "b").write_bytes(pickle.dumps(obj, protocol=2))
        with pytest.raises(UnsafePickleError, match=str(tmp_path / "b")): load_cifar_pickle(tmp_path / "b")


# ------------------------------------------------------------------------------------------------ image modes
def _palette():
    im = Image.new("P", (3, 1)); im.putpalette([255, 0, 0, 0, 128, 255, 10, 20, 30] + [0] * 759); im.putdata([0, 1, 2])
    return im

def _palette_transparent():
    im = _palette(); im.info["transparency"] = 1; return im

U16 = np.array([[0, 1000, 32768, 65535]], np.uint16)
# (name, image, file format, expected 8-bit RGB of the first row, worked out by hand)
MODES = [
    ("I;16 png", Image.fromarray(U16), "png", [[v] * 3 for v in (0, 4, 128, 255)]),         # round(v * 255 / 65535)
    ("I;16B tiff", Image.fromarray(U16.astype(">u2")), "tiff", [[v] * 3 for v in (0, 4, 128, 255)]),
    ("I 16-bit values", Image.fromarray(U16.astype(np.int32)), "tiff", [[v] * 3 for v in (0, 4, 128, 255)]),
    ("I 32-bit", Image.fromarray(np.array([[-7, 2**29, 2**31 - 1]], np.int32)), "tiff",   # 2**29 * 255 / (2**31 - 1) = 63.75
     [[0] * 3, [64] * 3, [255] * 3]),
    ("F", Image.fromarray(np.array([[-0.5, 0.2, 0.6, 2.0]], np.float32)), "tiff", [[v] * 3 for v in (0, 51, 153, 255)]),
    ("P", _palette(), "png", [[255, 0, 0], [0, 128, 255], [10, 20, 30]]),
    ("P transparency", _palette_transparent(), "png", [[255, 0, 0], [0, 128, 255], [10, 20, 30]]),
    ("LA", Image.merge(
        "LA", [Image.fromarray(np.array([[100, 7]], np.uint8)), Image.fromarray(np.array([[50, 255]], np.uint8))]),
     "png", [[100] * 3, [7] * 3]),
    ("CMYK", Image.merge("CMYK", [Image.fromarray(np.array([[0, 0, 51]], np.uint8)), Image.fromarray(np.array([[255, 0, 0]], np.uint8)),
                                  Image.fromarray(np.array([[0, 0, 0]], np.uint8)), Image.fromarray(np.array([[0, 255, 0]], np.uint8))]),
     "tiff", [[255, 0, 255], [0, 0, 0], [204, 255, 255]]),                                 # R = 255 - C - K, G = 255 - M - K ...
    ("1", Image.fromarray(np.array([[True, False]])), "png", [[255] * 3, [0] * 3]),
]


@pytest.mark.parametrize("name,im,fmt,expected", MODES, ids=[m[0] for m in MODES])
def test_every_image_mode_loads_as_what_it_shows(tmp_path, name, im, fmt, expected):
    f = tmp_path / "dom" / "cls" / f"x.{fmt}"; f.parent.mkdir(parents=True); im.save(f)
    with Image.open(f) as back: assert back.mode == im.mode or (name == "I;16B tiff" and back.mode.startswith("I;16"))
    got = load_image(f)
    assert got.mode == "RGB" and np.asarray(got)[0].tolist() == expected
    ds = get_dataset(str(tmp_path))                               # a folder dataset serves it in [0, 1]
    x, _ = ds["dom"][0]
    assert torch.equal(x[:, 0], torch.tensor(expected, dtype=torch.float32).T / 255)
