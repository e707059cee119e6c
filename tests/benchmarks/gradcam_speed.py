"""Grad-CAM throughput: 64 images in one batched call vs one image per call (oodgen.gradcam.compute_cam).

Models with random weights: SmallCNN on 32x32 and resnet18 on 224x224. Also times the bare library as usually called
(one GradCAM object, weights with gradients), per batch and per image.
Usage: python tests/benchmarks/gradcam_speed.py [--n 64] [--device cpu] [--repeats 2]
"""
import argparse, time

import torch
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from oodgen.models.classifiers import create_classifier, SmallCNN
from oodgen.eval.saliency import compute_cam, saliency_model


def timed(fn) -> float:
    if torch.cuda.is_available(): torch.cuda.synchronize()
    t = time.perf_counter(); fn()
    if torch.cuda.is_available(): torch.cuda.synchronize()
    return time.perf_counter() - t


def best_time(fn, repeats: int) -> float:
    "Best wall time of `repeats` runs."
    return min(timed(fn) for _ in range(repeats))


def bench(name: str, model: torch.nn.Module, size: int, n: int, device: str, repeats: int):
    torch.manual_seed(0)
    sm = saliency_model(model.to(device))
    x, y = torch.rand(n, 3, size, size, device=device), torch.randint(0, 10, (n,))
    compute_cam(sm, x[:2], y[:2])                                                  # warm-up
    batched = best_time(lambda: compute_cam(sm, x, y, batch_size=n), repeats)
    single = best_time(lambda: [compute_cam(sm, x[i:i + 1], y[i:i + 1]) for i in range(n)], repeats)
    # the bare library as usually called (weights with gradients, backward to the weights), one GradCAM object
    tg = [ClassifierOutputTarget(int(c)) for c in y]
    with GradCAM(sm.model, sm.target_layers) as cam:
        lib_b = best_time(lambda: cam(x, tg), repeats)
        lib_s = best_time(lambda: [cam(x[i:i + 1], tg[i:i + 1]) for i in range(n)], repeats)
    same = torch.allclose(compute_cam(sm, x, y, batch_size=n),
                          torch.cat([compute_cam(sm, x[i:i + 1], y[i:i + 1]) for i in range(n)]), atol=1e-4)
    print(f"{name:<17} {n} imgs | compute_cam: batched {n / batched:7.1f} img/s, one at a time {n / single:6.1f} img/s, "
          f"x{single / batched:4.1f} | bare library: batched {n / lib_b:7.1f} img/s, one at a time {n / lib_s:6.1f} "
          f"img/s, x{lib_s / lib_b:4.1f} | batched maps = single maps: {same}")
    return single / batched


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64); ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    print(f"torch {torch.__version__}, device {a.device}, {torch.get_num_threads()} CPU threads")
    r1 = bench("small_cnn 32x32", SmallCNN(10), 32, a.n, a.device, a.repeats)
    r2 = bench("resnet18 224x224", create_classifier("resnet18", 10), 224, a.n, a.device, a.repeats)
    print(f"target: batched >= 5x faster -> small_cnn {'met' if r1 >= 5 else 'NOT met'} (x{r1:.1f}), "
          f"resnet18 {'met' if r2 >= 5 else 'NOT met'} (x{r2:.1f})")
