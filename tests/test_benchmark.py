"""The leave-one-domain-out runner: worker processes give the same records, in the same order, as one process."""
import os
import pandas as pd
import torch


def _run(tmp_path, name, jobs):
    from oodgen.benchmark import run_leave_one_domain_out
    from oodgen.core import RunRecord
    from oodgen.data.domains import DigitsShift
    import oodgen.train.algorithms  # noqa: F401  (registers ERM, ERM_AugMix; workers import it themselves)
    run = RunRecord(tmp_path/name, params={"jobs": jobs})
    # 16 px digits: 4x less compute per step than the default 32 px, the same runner paths
    res = run_leave_one_domain_out(DigitsShift(domains=["gray", "colored", "rotated"], size=16), run, ["ERM", "ERM_AugMix"],
                                   test_domains=["colored"], seeds=[0, 1], steps=3, loo_validation=True, jobs=jobs)
    return res, pd.read_json(run.dir/"metrics.jsonl", lines=True), run.dir


def test_parallel_units_equal_sequential_units(tmp_path):
    workers_threads = max(1, len(os.sched_getaffinity(0)) // 2)   # what each of 2 workers uses
    old = torch.get_num_threads(); torch.set_num_threads(workers_threads)
    try: seq, mseq, _ = _run(tmp_path, "seq", 1)
    finally: torch.set_num_threads(old)
    par, mpar, d = _run(tmp_path, "par", 2)
    assert len(par) == 4 and [r["acc"] for r in par] == [r["acc"] for r in seq]
    key = ["metric", "algorithm", "test_domain", "seed", "val_domain", "domain", "split", "step"]
    assert mpar[key].astype(str).values.tolist() == mseq[key].astype(str).values.tolist()   # same records, same order
    assert (mpar.value - mseq.value).abs().max() < 1e-6
    assert len(list((d/"units").glob("*.done"))) == 4 * 3        # 4 units, each with 2 leave-one-more-out trainings
    assert (d/"checkpoints"/"ERM_AugMix_colored_trial0_seed1.pt").exists()
