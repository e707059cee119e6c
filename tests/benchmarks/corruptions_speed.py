"""Speed of every corruption in `oodgen.data.corruptions`: 1,000 32x32 RGB images per corruption, batched.

    python tests/benchmarks/corruptions_speed.py [--n 1000] [--size 32] [--severity 3] [--device cpu] [--batch 1000]

Prints images/s per corruption (one warm-up call on a small batch first, so one-time costs such as the frost
textures are not counted) and the five slowest.
"""
import argparse, time

import torch

from oodgen.data.corruptions import corrupt, corruption_names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="images per corruption")
    ap.add_argument("--size", type=int, default=32, help="image side")
    ap.add_argument("--severity", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1000, help="images per corrupt() call")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--suite", default="all", help="all, cifar_c, mnist_c or one corruption name")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    x = torch.rand(a.n, 3, a.size, a.size, generator=torch.Generator().manual_seed(0)).to(dev)
    rates = {}
    print(f"{a.n} images {a.size}x{a.size}, severity {a.severity}, batch {a.batch}, device {dev}, "
          f"{torch.get_num_threads()} threads")
    for name in corruption_names(a.suite):
        corrupt(x[:8], name, a.severity, torch.Generator().manual_seed(0))       # warm-up
        if dev.type == "cuda": torch.cuda.synchronize()
        t = time.perf_counter(); g = torch.Generator().manual_seed(1)
        for b in x.split(a.batch): corrupt(b, name, a.severity, g)
        if dev.type == "cuda": torch.cuda.synchronize()
        rates[name] = a.n / (time.perf_counter() - t)
        print(f"  {name:28s} {rates[name]:12,.0f} images/s", flush=True)
    print("slowest five:")
    for name, r in sorted(rates.items(), key=lambda kv: kv[1])[:5]:
        print(f"  {name:28s} {r:12,.0f} images/s")


if __name__ == "__main__":
    main()
