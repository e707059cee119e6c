"""Speed of one training unit against a bare training loop on the same model and batch.

    python tests/benchmarks/unit_speed.py [--algorithms ERM,ERM_AugMix] [--steps 100] [--threads 1] [--repeats 3]
                                          [--teacher runs/<pipeline>]   # adds RISE: a Stage 1 run folder (or folder of them)
                                          [--test-domain colored]

A unit is `oodgen.benchmark.train_unit` as `make demo` runs it (Digits-Shift, held-out `colored`, 100 steps, every split
evaluated at the end, checkpoint written), timed end to end. The bare loop is the same algorithm's `update` on one
fixed step's minibatches (one per training domain) from the unit's own training data: no data loading, no
evaluation, no setup. The figure is the ratio unit steps/s / bare steps/s (target >= 0.7). The first unit of an
algorithm in a process includes first-use costs (timm, a teacher); "again" rows are what most of a worker's units
cost. Wall-clock and CPU-time ratios are both printed: on a shared machine the CPU ratio is the steadier one.
Printed figures only, no timed asserts.
"""
import argparse, os, time

import torch


def bare_steps_per_s(name, ds, job, hparams, steps):
    "Steps/s (wall, cpu) of `alg.update` on one fixed step's minibatches of the unit's training data (after 3 warm-up steps)."
    from oodgen.benchmark import unit_hparams
    from oodgen.data.domains import split_domains
    from oodgen.train.loop import build_algorithm, domain_minibatches, to_device
    splits = split_domains(ds, job["held_out"], seed=0)
    alg = build_algorithm(name, ds.num_classes, unit_hparams(name, 0, hparams), seed=0,
                          num_domains=len(splits.train_domains))
    alg.prepare(splits, ds.classes); alg.train()
    batch = to_device(next(iter(domain_minibatches(alg, splits, seed=0))), "cpu")   # one minibatch per training domain
    for _ in range(3): alg.update(batch)
    w, c = time.perf_counter(), time.process_time()
    for _ in range(steps): alg.update(batch)
    return steps / (time.perf_counter() - w), steps / (time.process_time() - c)


def unit_steps_per_s(ds, job, hparams, steps, ckpt_dir):
    "Steps/s (wall, cpu) of a whole unit, setup and evaluation included."
    from oodgen.benchmark import train_unit
    w, c = time.perf_counter(), time.process_time()
    train_unit(ds, job, steps=steps, hparams=hparams, holdout=0.2, device="cpu", eval_every=None, hparams_seed=0,
               ckpt_dir=ckpt_dir)
    return steps / (time.perf_counter() - w), steps / (time.process_time() - c)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--algorithms", default="ERM,ERM_AugMix")
    ap.add_argument("--teacher", default="", help="Stage 1 run folder / checkpoint: also time RISE with it")
    ap.add_argument("--test-domain", default="colored", help="held-out domain (a --teacher must never have seen it)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (each of make demo's 2 workers uses 1 on 2 cores)")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    import tempfile
    import oodgen.train.algorithms  # noqa: F401  (registers ERM, ERM_AugMix)
    from oodgen.benchmark import unit_jobs
    from oodgen.data.domains import DigitsShift
    algorithms = a.algorithms.split(",") + (["RISE"] if a.teacher else [])
    if a.teacher: import oodgen.train.distill  # noqa: F401  (registers RISE)
    ds = DigitsShift()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}, load {load:.1f}, "
          f"torch threads {torch.get_num_threads()}, {a.steps} steps per unit, Digits-Shift held-out {a.test_domain}")
    print(f"{'algorithm':11s} {'unit':5s} {'unit steps/s':>12s} {'bare steps/s':>12s} {'ratio':>6s} | {'cpu ratio':>9s}")
    with tempfile.TemporaryDirectory() as ck:
        for name in algorithms:
            hp = {"teacher": a.teacher} if name == "RISE" else {}
            job = unit_jobs(ds, [name], [a.test_domain], 1, [0], False)[0]
            for r in range(a.repeats):
                uw, uc = unit_steps_per_s(ds, job, hp, a.steps, ck)
                bw, bc = bare_steps_per_s(name, ds, job, hp, a.steps)
                print(f"{name:11s} {'first' if r == 0 else 'again':5s} {uw:12.1f} {bw:12.1f} {uw / bw:6.2f} | {uc / bc:9.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
