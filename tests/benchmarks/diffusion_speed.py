"""Diffusion classifier throughput: (class, timestep) pairs batched over all classes vs one class at a time.

Same images, same noise, same pairs (one round of `--timesteps` timesteps for every class, no pruning), so both ways
compute identical errors; only the number of UNet calls differs (one call per `--batch` pairs vs one call per class).
Models: tiny UNet2DConditionModels with random weights, on Digits-sized pixels (3x8x8) and on Stable-Diffusion-like
latents (4x32x32, the latent of a 256 px image).
Usage: python tests/benchmarks/diffusion_speed.py [--images 4] [--timesteps 25] [--classes 10] [--device cpu] [--repeats 2]
"""
import argparse, time

import torch
from diffusers import DDPMScheduler

from oodgen.diffusion import TopKSchedule, classify, tiny_denoiser


def timed(fn, device) -> float:
    if device.startswith("cuda"): torch.cuda.synchronize()
    t = time.perf_counter(); fn()
    if device.startswith("cuda"): torch.cuda.synchronize()
    return time.perf_counter() - t


def bench(name, channels, size, widths, args):
    torch.manual_seed(0)
    model = tiny_denoiser(args.classes, channels, size, 32, widths).to(args.device).eval()
    if args.device.startswith("cuda"): model = model.half()          # fp16 on GPU, as the stage runs Stable Diffusion
    ac = DDPMScheduler(num_train_timesteps=1000).alphas_cumprod
    x0s = torch.randn(args.images, 1, channels, size, size, device=args.device)
    sched = TopKSchedule((args.timesteps,), (1,))                    # one round: every class at every timestep
    pairs = args.classes * args.timesteps

    def run(batch):
        return [classify(model, x0, args.classes, sched, ac, batch_size=batch,
                         generator=torch.Generator().manual_seed(i)) for i, x0 in enumerate(x0s)]
    run(pairs)                                                       # warm-up
    batched = min(timed(lambda: run(min(pairs, args.batch)), args.device) for _ in range(args.repeats))
    per_class = min(timed(lambda: run(args.timesteps), args.device) for _ in range(args.repeats))
    a, b = run(min(pairs, args.batch)), run(args.timesteps)
    same = all(torch.allclose(r.errors, s.errors, rtol=1e-3, atol=1e-4) and r.pred == s.pred for r, s in zip(a, b))
    print(f"{name:<26} {args.images} imgs x {args.classes} classes x {args.timesteps} timesteps | batched over classes "
          f"({min(pairs, args.batch)} pairs/call): {args.images / batched:7.2f} img/s | one class at a time "
          f"({args.timesteps} pairs/call): {args.images / per_class:7.2f} img/s | x{per_class / batched:4.1f} | same errors: {same}")
    return per_class / batched


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--timesteps", type=int, default=25)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=250, help="pairs per UNet call when batching over classes")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    print(f"device {args.device}, torch threads {torch.get_num_threads()}")
    bench("digits pixels 3x8x8", 3, 8, (16, 32), args)
    bench("SD-like latents 4x32x32", 4, 32, (32, 64), args)
