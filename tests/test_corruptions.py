"""oodgen.data.corruptions: loaders for the released CIFAR-C / MNIST-C files (written here in the real layouts), the
corrupted-dataset wrapper, fidelity of every corruption to the reference code (make_cifar_c.py, mnist-c
corruptions.py) fed the same random draws, the shipped frost photos, and the stage's papermill run."""
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
    jitter = S.gen_uniform(g, x, -c[2], c[2], 1, 3, 2)[0].double().numpy()
    field = S.gen_uniform(g, x, -1, 1, 1, 2, 32, 32)[0].double().numpy()
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
    out = S.motion_blur_along(x[1:], radius, sigma, torch.tensor([angle]))[0].permute(1, 2, 0).numpy()
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


# ---------------------------------------------------------------------------------------------------------------------
# Fidelity: every corruption against its reference code (make_cifar_c.py / mnist-c corruptions.py) on fixed images,
# with the reference's np.random calls fed the draws our implementation makes (same generator, same order).
# The notebook covers spatter, frost, MNIST-C glass blur and the deterministic ones; the rest are here.

def _u8(x):   # (C, H, W) in [0, 1] -> the reference's uint8 (H, W, C) image
    return (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)

def _photo_u8():
    x = _patches()
    return (x * 255).round() / 255

def _digits28():
    from skimage import data
    from skimage.transform import resize
    t = resize(data.text(), (56, 56), anti_aliasing=True)[:28, :28]                   # fixed grey strokes
    return torch.tensor((t * 255).round() / 255, dtype=torch.float32)[None, None]

def _ref_plasma_fractal(mapsize, wibbledecay, uniform):   # the reference plasma_fractal, np.random.uniform -> uniform
    maparray = np.empty((mapsize, mapsize), dtype=np.float64); maparray[0, 0] = 0
    stepsize, wibble = mapsize, 100
    def wibbledmean(array): return array / 4 + wibble * uniform(-wibble, wibble, array.shape)
    while stepsize >= 2:
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)
        drgrid = maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize]
        ulgrid = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        ltsum = drgrid + np.roll(drgrid, 1, axis=0) + ulgrid + np.roll(ulgrid, -1, axis=1)
        maparray[0:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(ltsum)
        ttsum = drgrid + np.roll(drgrid, 1, axis=1) + ulgrid + np.roll(ulgrid, -1, axis=0)
        maparray[stepsize // 2:mapsize:stepsize, 0:mapsize:stepsize] = wibbledmean(ttsum)
        stepsize //= 2; wibble /= wibbledecay
    maparray -= maparray.min()
    return maparray / maparray.max()

def _torch_uniform(g):
    return lambda lo, hi, shape: lo + (hi - lo) * torch.rand((1, *shape), generator=g)[0].double().numpy()


@pytest.mark.parametrize("sev", [1, 3, 5])
def test_cifar_noises_match_reference(sev):
    from skimage.util import random_noise   # noqa: F401  (the reference's s&p: flipped = p, salted = 1/2, as below)
    x = _photo_u8()[:1]; img = _u8(x[0]) / 255.
    out = lambda n: S.corrupt(x, n, sev, torch.Generator().manual_seed(sev))[0].permute(1, 2, 0).numpy()
    g = torch.Generator().manual_seed(sev); z = torch.randn(x.shape, generator=g)[0].permute(1, 2, 0).double().numpy()
    c = [0.04, 0.06, .08, .09, .10][sev - 1]
    assert np.abs(out("gaussian_noise") - np.clip(img + z * c, 0, 1)).max() < 1e-5
    c = [.06, .1, .12, .16, .2][sev - 1]
    assert np.abs(out("speckle_noise") - np.clip(img + img * z * c, 0, 1)).max() < 1e-5
    c = [500, 250, 100, 75, 50][sev - 1]
    k = torch.poisson((x.clamp(0, 1) * c), generator=torch.Generator().manual_seed(sev))[0].permute(1, 2, 0).double().numpy()
    assert np.abs(out("shot_noise") - np.clip(k / c, 0, 1)).max() < 1e-5
    c = [.01, .02, .03, .05, .07][sev - 1]
    g = torch.Generator().manual_seed(sev)
    flipped = (torch.rand(x.shape, generator=g) < c)[0].permute(1, 2, 0).numpy()
    salted = (torch.rand(x.shape, generator=g) < 0.5)[0].permute(1, 2, 0).numpy()
    ref = img.copy(); ref[flipped & salted] = 1; ref[flipped & ~salted] = 0         # skimage random_noise('s&p')
    assert np.abs(out("impulse_noise") - ref).max() < 1e-5 and flipped.any()


@pytest.mark.parametrize("sev", [1, 4, 5])
def test_cifar_glass_blur_matches_reference(sev):
    from skimage.filters import gaussian
    x = _photo_u8()[1:2]
    c = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)][sev - 1]
    out = S.corrupt(x, "glass_blur", sev, torch.Generator().manual_seed(0))[0].permute(1, 2, 0).numpy()
    offs = torch.randint(-1, 1, (c[2], 30 * 30, 1, 2), generator=torch.Generator().manual_seed(0))[:, :, 0].numpy()
    im = np.uint8(gaussian(_u8(x[0]) / 255., sigma=c[0], channel_axis=-1) * 255)       # make_cifar_c.py glass_blur
    for i in range(c[2]):
        k = 0
        for h in range(32 - c[1], c[1], -1):
            for w in range(32 - c[1], c[1], -1):
                dx, dy = offs[i, k]; k += 1
                h_prime, w_prime = h + dy, w + dx
                im[h, w], im[h_prime, w_prime] = im[h_prime, w_prime], im[h, w]
    ref = np.clip(gaussian(im / 255., sigma=c[0], channel_axis=-1), 0, 1)
    assert np.abs(out - ref).max() < 1e-5


@pytest.mark.parametrize("sev", [1, 3, 5])
def test_fogs_match_reference(sev):
    x = _photo_u8()[:1]
    c = [(.2, 3), (.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)][sev - 1]                  # make_cifar_c.py fog
    out = S.corrupt(x, "fog", sev, torch.Generator().manual_seed(sev))[0].permute(1, 2, 0).numpy()
    img = _u8(x[0]) / 255.; max_val = img.max()
    img = img + c[0] * _ref_plasma_fractal(32, c[1], _torch_uniform(torch.Generator().manual_seed(sev)))[:32, :32][..., None]
    assert np.abs(out - np.clip(img * max_val / (max_val + c[0]), 0, 1)).max() < 1e-4
    d = _digits28()                                                                     # mnist-c fog, released level
    out = S.corrupt(d, "mnist_c/fog", 3, torch.Generator().manual_seed(sev))[0, 0].numpy()
    img = d[0, 0].double().numpy(); max_val = img.max()
    img = img + 3. * _ref_plasma_fractal(256, 1.4, _torch_uniform(torch.Generator().manual_seed(sev)))[:28, :28]
    assert np.abs(out - np.clip(img * max_val / (max_val + 3.), 0, 1)).max() < 1e-4


def test_mnist_c_random_ones_match_reference():
    from skimage import transform
    from skimage.filters import gaussian
    d = _digits28(); img = d[0, 0].double().numpy()
    out = lambda n, s=3: S.corrupt(d, f"mnist_c/{n}", s, torch.Generator().manual_seed(7))[0, 0].numpy()
    g = lambda: torch.Generator().manual_seed(7)
    # shot_noise (3 photons), impulse_noise (0.17)
    k = torch.poisson(d.clamp(0, 1) * 3, generator=g())[0, 0].double().numpy()
    assert np.abs(out("shot_noise") - np.clip(k / 3., 0, 1)).max() < 1e-6
    gg = g(); flipped = (torch.rand(d.shape, generator=gg) < .17)[0, 0].numpy(); salted = (torch.rand(d.shape, generator=gg) < .5)[0, 0].numpy()
    ref = img.copy(); ref[flipped & salted] = 1; ref[flipped & ~salted] = 0
    assert np.abs(out("impulse_noise") - ref).max() < 1e-6
    # translate (3 px, random signs), brightness (+0.5 in HSV value of the grey image)
    bit = (torch.randint(0, 2, (1, 2), generator=g())[0] * 2 - 1).numpy()
    ref = np.clip(transform.warp(img, inverse_map=transform.AffineTransform(translation=[3 * bit[0], 3 * bit[1]])), 0, 1)
    assert np.abs(out("translate") - ref).max() < 1e-5
    from skimage import color
    hsv = color.rgb2hsv(color.gray2rgb(img)); hsv[:, :, 2] = np.clip(hsv[:, :, 2] + .5, 0, 1)
    assert np.abs(out("brightness") - np.clip(color.rgb2gray(color.hsv2rgb(hsv)), 0, 1)).max() < 1e-5
    # shear (0.4, random sign): old skimage's AffineTransform(shear=c) matrix, centre (13.5, 13.5) kept fixed
    sh = 0.4 * float(torch.randint(0, 2, (1,), generator=g())[0] * 2 - 1)
    a1, a2, b1, b2 = 1.0, -np.sin(sh), 0.0, np.cos(sh)
    aff = transform.AffineTransform(matrix=np.array([[a1, a2, 13.5 * (1 - a1 - a2)], [b1, b2, 13.5 * (1 - b1 - b2)], [0, 0, 1]]))
    assert np.abs(out("shear") - np.clip(transform.warp(img, inverse_map=aff), 0, 1)).max() < 1e-5
    # spatter (mud, the released level 4 of corruptions.py)
    c = (0.65, 0.3, 1, 0.65, 1.5)
    liquid = gaussian(torch.randn((1, 1, 28, 28), generator=g())[0, 0].double().numpy() * c[1] + c[0], sigma=c[2])
    liquid[liquid < c[3]] = 0
    m = gaussian(np.where(liquid > c[3], 1, 0).astype(np.float32), sigma=c[4]); m[m < 0.8] = 0
    assert np.abs(out("spatter") - np.clip(img * (1 - m) + 63 / 255. * m, 0, 1)).max() < 1e-5 and m.any()


def _ref_line_from_points(c0, r0, c1, r1):   # mnist-c corruptions.py
    if c1 == c0: return np.zeros((28, 28))
    cc, rr = np.meshgrid(np.linspace(0, 27, 28), np.linspace(0, 27, 28), sparse=True)
    m = (r1 - r0) / (c1 - c0)
    dist = np.clip(np.abs(rr - (m * (cc - c0) + r0)), 0, 2.3 - 1e-10)
    corruption = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
    corruption[:, :int(np.floor(c0))] = 0; corruption[:, int(np.ceil(c1)):] = 0
    return np.clip(corruption, 0, 1)


def test_mnist_c_lines_match_reference():
    d = _digits28(); img = d[0, 0].double().numpy()
    for seed in range(3):
        out = lambda n: S.corrupt(d, f"mnist_c/{n}", 3, torch.Generator().manual_seed(seed))[0, 0].numpy()
        r0, r1 = torch.randint(0, 27, (1, 2), generator=torch.Generator().manual_seed(seed))[0].tolist()
        corruption = _ref_line_from_points(0, r0, 27, r1)                               # dotted_line
        idx = np.arange(0, 30, 2); off = True
        for i in range(1, len(idx)):
            if off: corruption[:, idx[i - 1]:idx[i]] = 0
            off = not off
        assert np.abs(out("dotted_line") - np.clip(img + corruption, 0, 1)).max() < 1e-5
        g = torch.Generator().manual_seed(seed)                                         # zigzag
        r0 = int(torch.randint(0, 27, (1,), generator=g)); r1 = r0 + int(torch.randint(-5, 5, (1,), generator=g))
        a, b, c0, c1 = 2., 2., 2, 25
        theta = np.arctan((r1 - r0) / (c1 - c0)); dd = (c1 - c0) / np.cos(theta)
        endpoints = [(0, 0)]
        for i in range(int((dd - a) // (2 * a)) + 1):
            r_i = (-1) ** i * b; endpoints.append(((2 * i + 1) * a, r_i))
        max_c = (2 * a) * (dd // (2 * a))
        if dd != max_c: endpoints.append((dd, r_i / (2 * (dd - max_c))))
        cs, rs = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]).dot(np.array(endpoints).T)
        cs += c0; rs += r0; x = img.copy()
        for i in range(1, len(cs)): x = np.clip(x + _ref_line_from_points(cs[i - 1], rs[i - 1], cs[i], rs[i]), 0, 1)
        assert np.abs(out("zigzag") - x).max() < 1e-5


def _ref_magick_motion_blur(img, radius, sigma, angle):   # ImageMagick MotionBlurImage, edge pixels repeated
    width = 2 * int(math.ceil(radius)) + 1
    kern = np.exp(-np.arange(width) ** 2 / (2 * sigma ** 2)); kern /= kern.sum()
    H, W = img.shape[:2]; out = np.zeros_like(img, dtype=np.float64)
    for i in range(width):
        ox = math.ceil(i * math.cos(math.radians(angle)) - 0.5); oy = math.ceil(i * math.sin(math.radians(angle)) - 0.5)
        out += kern[i] * img[np.clip(np.arange(H) + oy, 0, H - 1)][:, np.clip(np.arange(W) + ox, 0, W - 1)]
    return out


def test_motion_blurs_and_snow_match_reference_formulas():
    "ImageMagick is not a dependency: the references' Wand calls are replaced by MotionBlurImage's formula."
    x = _photo_u8()[:1]; d = _digits28()
    angle = float(-45 + 90 * torch.rand(1, generator=torch.Generator().manual_seed(4))[0])
    out = S.corrupt(d, "mnist_c/motion_blur", 3, torch.Generator().manual_seed(4))[0, 0].numpy()
    assert np.abs(out - np.clip(_ref_magick_motion_blur(d[0, 0].double().numpy(), 10, 3, angle), 0, 1)).max() < 1e-5
    out = S.corrupt(x, "motion_blur", 5, torch.Generator().manual_seed(4))[0].permute(1, 2, 0).numpy()
    ref = _ref_magick_motion_blur(_u8(x[0]) / 255., 9, 2.5, angle)
    assert np.abs(out - np.clip(ref, 0, 1)).max() < 1e-5
    # snow, severity 3 (make_cifar_c.py), the layer written as 8-bit PNG before and after ImageMagick
    c = (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9)
    from scipy.ndimage import zoom as scizoom
    g = torch.Generator().manual_seed(5)
    layer = torch.randn((1, 1, 32, 32), generator=g)[0, 0].double().numpy() * c[1] + c[0]
    angle = float(-135 + 90 * torch.rand(1, generator=g)[0])
    ch = int(np.ceil(32 / c[2])); top = (32 - ch) // 2
    z = scizoom(layer[top:top + ch, top:top + ch], (c[2], c[2]), order=1); trim = (z.shape[0] - 32) // 2
    layer = z[trim:trim + 32, trim:trim + 32]; layer[layer < c[3]] = 0
    layer = (np.clip(layer, 0, 1) * 255).astype(np.uint8) / 255.
    layer = np.floor(_ref_magick_motion_blur(layer, c[4], c[5], angle) * 255 + 0.5) / 255
    img = _u8(x[0]) / 255.
    gray = (img @ np.array([0.299, 0.587, 0.114]))[..., None]                         # cv2 RGB2GRAY
    img = c[6] * img + (1 - c[6]) * np.maximum(img, gray * 1.5 + 0.5)
    ref = np.clip(img + layer[..., None] + np.rot90(layer, k=2)[..., None], 0, 1)
    out = S.corrupt(x, "snow", 3, torch.Generator().manual_seed(5))[0].permute(1, 2, 0).numpy()
    assert np.abs(out - ref).max() < 2e-3                  # cv2's 8-bit grey rounding; zoom in float32 vs float64


def test_frost_assets_are_the_shipped_files():
    "oodgen/assets/frost/frostN.png: cv2.resize(cv2.imread(original), (0, 0), fx=0.2, fy=0.2), saved losslessly (README)."
    import hashlib
    from oodgen.data.domains import asset_path
    folder = asset_path("frost")
    want = {1: "cd90f81f1a6e428e7e3142fe3c092a1555a171d927ec2c114a706ded5b2dbcb2",
            2: "2eb1e236e4428734e3d20558276bed8179debf534a3e3bb9b42b81577a894885",
            3: "2eb1e236e4428734e3d20558276bed8179debf534a3e3bb9b42b81577a894885",
            4: "c9f325bc9ad5e046f3ce46e67c061d5d0b51fe8dc26aec962f59f2d6b812e194",
            5: "821f87707fc8f02ac491b8999b5ca26b15b5f0c1db2c3815dec91349b6f0f92f",
            6: "52797a4bb38eada9fa3b91900bf82c6fae8c0b26fd684c9e45b52468bebe1eac"}
    for i, h in want.items():
        assert hashlib.sha256((folder / f"frost{i}.png").read_bytes()).hexdigest() == h, i


def test_frost_assets_equal_the_resized_originals():
    "Needs the original photos: `$OODGEN_FROST_ORIGINALS`, or an installed `imagecorruptions` (found, not imported)."
    import importlib.util, os
    from oodgen.data.domains import asset_path
    folder = asset_path("frost")
    originals = os.environ.get("OODGEN_FROST_ORIGINALS")
    if not originals and (spec := importlib.util.find_spec("imagecorruptions")) is not None:   # found, not imported
        originals = str(Path(spec.origin).parent / "frost")
    if not originals: pytest.skip("no original frost photos here (set OODGEN_FROST_ORIGINALS or pip install imagecorruptions)")
    cv2 = pytest.importorskip("cv2")
    for i, ext in enumerate(["png", "png", "png", "jpg", "jpg", "jpg"], 1):
        ref = cv2.resize(cv2.imread(f"{originals}/frost{i}.{ext}"), (0, 0), fx=0.2, fy=0.2)
        assert np.array_equal(cv2.imread(str(folder / f"frost{i}.png")), ref), i
