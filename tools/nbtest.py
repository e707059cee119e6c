"""`make nbtest`: `nbdev_test`, each notebook in a fresh process.

nbdev_test hands the notebooks to a pool whose worker processes run one notebook after another, so the module state a
notebook leaves behind (its cells re-register classes into the package's registries: `BACKBONES`, `ALGORITHMS`, ...)
is what the next notebook in that worker sees. Which notebooks share a worker depends on timing, so a test could pass
or fail by scheduling (it did: 21, 22 and 47 built a notebook-14 `SmallCNN` that `isinstance` did not recognise).
Each notebook here runs as it does for a person, in a process of its own: the pool's workers take one task each
(`max_tasks_per_child=1`, with the `spawn` start method that option needs). Everything else is nbdev_test's own code
and command line (`--n_workers`, `--timing`, `--path`, ...).
"""
import multiprocessing as mp
import fastcore.parallel as fp

class FreshProcessPool(fp.ProcessPoolExecutor):
    "fastcore's pool with one notebook per worker process."
    def __init__(self, max_workers=None, **kwargs):
        kwargs.setdefault("mp_context", mp.get_context("spawn"))
        super().__init__(max_workers, max_tasks_per_child=1, **kwargs)

fp.ProcessPoolExecutor = FreshProcessPool        # what fastcore's `parallel` (used by nbdev_test) builds

if __name__ == "__main__":
    from nbdev.test import nbdev_test
    nbdev_test()
