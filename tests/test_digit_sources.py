"""The four-source digit benchmark (`digit_sources`): a leave-one-domain-out run of the benchmark stage, and the
MNIST-M blend on a real photo crop against tf-dann's `create_mnistm.py` formula."""
import numpy as np
import pandas as pd


def test_benchmark_stage_runs_on_digit_sources(tmp_path):
    "`oodgen run benchmark -p dataset digit_sources ...`: every held-out domain gets a row of the results table."
    from oodgen.runs import run_stage
    params = dict(dataset="digit_sources", data_root=str(tmp_path/"data"), algorithms=["ERM"], test_domains=["uci", "syn"],
                  seeds=[0], steps=3, eval_every=0, device="cpu")
    run = run_stage("benchmark", params, name="ds", out=tmp_path, progress=False)
    table = pd.read_csv(run/"results_acc.csv", index_col=0)
    assert list(table.index) == ["ERM"] and {"uci", "syn"} <= set(table.columns)
    assert (tmp_path/"data"/"digit_sources").is_dir()                     # made once, under the data root it was given


def test_mnist_m_blend_on_a_photo_crop():
    from oodgen.data.digit_sources import mnist_m_blend, mnist_m_photos
    from oodgen.data.domains import mnist5k_arrays
    digit = mnist5k_arrays()[0][7, :, :, 0]; crop = mnist_m_photos()[0][100:128, 200:228]
    d = (digit > 0).astype(np.float32)[..., None] * 255                   # tf-dann: mnist_to_img, then compose_image
    ref = np.abs(crop - np.concatenate([d, d, d], 2)).astype(np.uint8)
    assert np.array_equal(mnist_m_blend(digit, crop), ref)
    assert (mnist_m_blend(digit, crop)[digit == 0] == crop[digit == 0]).all()
