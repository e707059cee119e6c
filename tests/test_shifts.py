"""oodgen.data.corruptions: loaders for the released CIFAR-C / MNIST-C files (written here in the real layouts), the
corrupted-dataset wrapper, fidelity to the reference corruption code, and the stage's papermill run."""
import json, math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from oodgen.data.domains import dataset_targets, TensorDomain
from oodgen.data import corruptions as S

REPO = Path(__file__).resolve().parents[1]


def write_cifar_c(root, folder="CIFAR-10-C", names=("fog", "snow"), block=3, dtype=np.uint8):
    d = Path(root) / folder; d.mkdir(parents=True, exist_ok=True)
    for k, n in enumerate(names):
        a = np.zeros((5 * block, 32, 32, 3), dtype)
        for s in range(5): a[s * block:(s + 1) * block] = 10 * (s + 1) + k      # severity s+1 -> 10(s+1) + k
        np.save(d / f"{n}.npy", a)
    np.save(d / "labels.npy", np.tile(np.arange(block) % 10, 5).astype(np.uint8))
    return d


def test_cifar_c_loader_blocks_and_errors(tmp_path):
    write_cifar_c(tmp_path, "CIFAR-100-C")
    for sev in range(1, 6):
        ds = S.CIFARC("snow", sev, root=tmp_path, name="cifar100_c", block_size=3)
        x, y = ds[2]
        assert len(ds) == 3 and x.shape == (3, 32, 32) and x.dtype == torch.float32 and y == 2
        assert round(float(x.max()) * 255) == 10 * sev + 1
    assert dataset_targets(ds) == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match="data_scripts/cifar10_c.py"):
        S.CIFARC("fog", 1, root=tmp_path, block_size=3)                 # CIFAR-10-C is not there
    with pytest.raises(ValueError, match="block_size=3"):
        S.CIFARC("fog", 1, root=tmp_path, name="cifar100_c")            # default block 10000 does not fit
    with pytest.raises(ValueError, match="from 1 to 5"):
        S.CIFARC("fog", 6, root=tmp_path, name="cifar100_c", block_size=3)
    with pytest.raises(ValueError, match="unknown set"):
        S.CIFARC("fog", 1, root=tmp_path, name="cifar10c")
    d = write_cifar_c(tmp_path / "f", dtype=np.float32)
    with pytest.raises(ValueError, match="expected uint8"):
        S.CIFARC("fog", 1, root=d, block_size=3)                          # root may be the CIFAR-10-C folder itself
    (d / "labels.npy").unlink()
    with pytest.raises(FileNotFoundError, match="incomplete"):
        S.CIFARC("fog", 1, root=d, block_size=3)
    write_cifar_c(tmp_path / "f", names=("fog",))
    np.save(d / "labels.npy", np.zeros(7, np.uint8))
    with pytest.raises(ValueError, match="one label per image"):
        S.CIFARC("fog", 1, root=d, block_size=3)


def test_mnist_c_loader(tmp_path):
    for c, n in (("identity", 4), ("zigzag", 5)):
        d = tmp_path / "mnist_c" / c; d.mkdir(parents=True)
        for split, m in (("train", n + 1), ("test", n)):
            img = np.zeros((m, 28, 28, 1), np.uint8); img[:, 3, 4] = 255
            np.save(d / f"{split}_images.npy", img); np.save(d / f"{split}_labels.npy", np.arange(m) % 10)
    ds = S.MNISTC("zigzag", root=tmp_path)
    x, y = ds[4]
    assert len(ds) == 5 and x.shape == (1, 28, 28) and y == 4 and x[0, 3, 4] == 1 and x.sum() == 1
    assert S.MNISTC("mnist_c/identity", "train", root=tmp_path / "mnist_c", channels=3)[0][0].shape == (3, 28, 28)
    with pytest.raises(FileNotFoundError, match="corruptions present in .*identity, zigzag"):
        S.MNISTC("fog", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="data_scripts/mnist_c.py"):
        S.MNISTC("fog", root=tmp_path / "nowhere")
    np.save(tmp_path / "mnist_c" / "zigzag" / "test_images.npy", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"expected \(N, 28, 28, 1\)"):
        S.MNISTC("zigzag", root=tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        S.MNISTC("zigzag", split="val", root=tmp_path)


def test_corrupted_dataset_deterministic_per_index():
    base = TensorDomain(torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0)), torch.arange(6) % 3)
    ds = S.CorruptedDataset(base, "mnist_c/glass_blur", 3, seed=5)
    direct = [ds[i][0] for i in range(6)]
    order = torch.randperm(6, generator=torch.Generator().manual_seed(1)).tolist()
    got = {i: ds[i] for i in order}                                  # any order gives the same images
    for i in range(6):
        assert torch.equal(got[i][0], direct[i]) and got[i][1] == base[i][1]
    batch = next(iter(DataLoader(ds, batch_size=6)))
    assert torch.equal(batch[0], torch.stack(direct)) and batch[1].tolist() == [base[i][1] for i in range(6)]
    assert dataset_targets(ds) == base.targets and len(ds) == len(base)
    assert not torch.equal(S.CorruptedDataset(base, "mnist_c/glass_blur", 3, seed=6)[0][0], direct[0])
    assert not torch.equal(S.CorruptedDataset(base, "mnist_c/glass_blur", 4, seed=5)[0][0], direct[0])


def _patches():
    from skimage import data
    from skimage.transform import resize
    p = torch.tensor(resize(data.astronaut(), (64, 64), anti_aliasing=True)).permute(2, 0, 1).float()
    return torch.stack([p[:, :32, :32], p[:, 32:, 32:]])


def test_elastic_matches_reference_with_same_random_numbers():
    cv2 = pytest.importorskip("cv2")
    from scipy.ndimage import map_coordinates
    from skimage.filters import gaussian
    x = _patches()[:1]
    out = S.corrupt(x, "elastic_transform", 4, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)                               # the same draws, in the same order
    c = (32 * 0.1, 32 * 0.04, 32 * 0.05)
    jitter = S._uniform(g, x, -c[2], c[2], 1, 3, 2)[0].double().numpy()
    field = S._uniform(g, x, -1, 1, 1, 2, 32, 32)[0].double().numpy()
    image = x[0].permute(1, 2, 0).numpy().astype(np.float32)            # make_cifar_c.py's elastic_transform
    center, sq = np.float32((32, 32)) // 2, 32 // 3
    pts1 = np.float32([center + sq, [center[0] + sq, center[1] - sq], center - sq])
    M = cv2.getAffineTransform(pts1, (pts1 + jitter).astype(np.float32))
    image = cv2.warpAffine(image, M, (32, 32), borderMode=cv2.BORDER_REFLECT_101)
    dx = (gaussian(field[0], c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)[..., None]
    dy = (gaussian(field[1], c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)[..., None]
    xx, yy, zz = np.meshgrid(np.arange(32), np.arange(32), np.arange(3))
    idx = np.reshape(yy + dy, (-1, 1)), np.reshape(xx + dx, (-1, 1)), np.reshape(zz, (-1, 1))
    ref = np.clip(map_coordinates(image, idx, order=1, mode="reflect").reshape(32, 32, 3), 0, 1)
    assert np.abs(out[0].permute(1, 2, 0).numpy() - ref).max() < 2e-3   # OpenCV's fixed-point bilinear warp


def test_defocus_and_motion_blur_match_references():
    cv2 = pytest.importorskip("cv2")
    x = _patches()
    # defocus: make_cifar_c.py's disk + cv2.filter2D per channel
    for sev, (r, ab) in zip((1, 5), ((0.3, 0.4), (1.5, 0.1))):
        L = np.arange(-8, 8 + 1); X, Y = np.meshgrid(L, L)
        disk = np.array((X ** 2 + Y ** 2) <= r ** 2, dtype=np.float32); disk /= disk.sum()
        k = cv2.GaussianBlur(disk, ksize=(3, 3), sigmaX=ab)
        img = x[0].permute(1, 2, 0).numpy()
        ref = np.clip(np.stack([cv2.filter2D(img[:, :, d], -1, k) for d in range(3)], -1), 0, 1)
        assert np.abs(S.corrupt(x[:1], "defocus_blur", sev)[0].permute(1, 2, 0).numpy() - ref).max() < 1e-5
    # motion blur: ImageMagick's MotionBlurImage (as re-implemented by the imagecorruptions package)
    radius, sigma, angle = 9, 2.5, 30.0
    width = 2 * radius + 1
    kern = np.exp(-np.arange(width) ** 2 / (2 * sigma ** 2)); kern /= kern.sum()
    img = x[1].permute(1, 2, 0).numpy(); ref = np.zeros_like(img)
    for i in range(width):
        ox = math.ceil(i * math.cos(math.radians(angle)) - 0.5); oy = math.ceil(i * math.sin(math.radians(angle)) - 0.5)
        rows = np.clip(np.arange(32) + oy, 0, 31); cols = np.clip(np.arange(32) + ox, 0, 31)
        ref += kern[i] * img[rows][:, cols]
    out = S._motion_blur(x[1:], radius, sigma, torch.tensor([angle]))[0].permute(1, 2, 0).numpy()
    assert np.abs(out - ref).max() < 1e-5


def test_cpu_generator_independent_of_image_device_and_batch_shape():
    x = _patches()
    a = S.corrupt(x, "snow", 4, torch.Generator().manual_seed(0))
    b = S.corrupt(x.double(), "snow", 4, torch.Generator().manual_seed(0))
    assert b.dtype == torch.float64 and torch.allclose(a.double(), b, atol=1e-5)


def test_stage_notebook_runs(tmp_path):
    params = dict(corruptions=["gaussian_noise", "mnist_c/rotate"], severities=[1, 3], n_images=24, steps=3,
                  batch_size=16, photo_size=32)
    try:
        from oodgen.runs import run_stage
        run = run_stage("corruptions", params, name="tiny", out=tmp_path, progress=False)
    except ImportError:
        import papermill as pm
        run = tmp_path / "tiny"
        pm.execute_notebook(str(REPO / "nbs" / "03_data.corruptions.ipynb"), str(tmp_path / "out.ipynb"), cwd=str(REPO / "nbs"),
                            parameters={**params, "out_dir": str(run)}, progress_bar=False)
    recs = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    accs = {(r["corruption"], r["severity"]) for r in recs if r["metric"] == "acc" and "corruption" in r}
    assert accs == {("clean", 0), ("gaussian_noise", 1), ("gaussian_noise", 3), ("mnist_c/rotate", 1), ("mnist_c/rotate", 3)}
    figs = {p.name for p in (run / "figures").glob("*.png")}
    assert {"accuracy_vs_severity.png", "gallery_digit_cifar_c.png", "gallery_photo_mnist_c.png"} <= figs
    assert "mnist_c/rotate" in (run / "accuracy_vs_severity.md").read_text()
    assert json.loads((run / "params.json").read_text())["severities"] == [1, 3]
