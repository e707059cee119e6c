"""Stage 2 (24_train.distill) on Digits-DG: end to end on the shared tiny Stage 1 run; unit-level checks with random tiny teachers."""
import json
import pandas as pd
import pytest
import torch
from conftest import oodgen_cli


def tiny_teacher(path, train_domains):
    from oodgen.models.cross_attention import ImageTextMatcher, save_teacher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    torch.manual_seed(0)
    ie = create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32)
    te = create_text_encoder("distilbert-base-uncased", pretrained=False, trainable=False,
                             config=dict(dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    return save_teacher(ImageTextMatcher(ie, te, embed_dim=16, heads=2).eval(), path, train_domains=train_domains)


@pytest.fixture(scope="module")
def teachers(tmp_path_factory):
    d = tmp_path_factory.mktemp("teachers")
    return {"clean": tiny_teacher(d/"clean.pt", ["gray", "rotated", "inverted"]),
            "leaky": tiny_teacher(d/"leaky.pt", ["gray", "colored", "rotated", "inverted"])}


@pytest.mark.xdist_group("stage1")
def test_stage2_run_on_stage1_runs_compares_student_with_erm(tmp_path, stage1_run):
    "The pipeline's chain: the teacher is a folder of stage1-<held-out domain>/ runs (here the shared tiny Stage 1 run)."
    oodgen_cli("run", "distill", "-p", "teacher", stage1_run.parent, "-p", "algorithms", "[ERM, RISE]",
               "-p", "test_domains", "[rotated]", "-p", "seeds", "[0, 1]", "-p", "steps", "5",
               "--name", "s2", "--out", tmp_path, "--quiet")
    d = tmp_path/"s2"
    for f in ["results_acc.md", "results_acc_oracle.md", "results_macro_f1_training_domain.csv", "student_vs_erm.md",
              "teacher_vs_student.md", "figures/heldout_accuracy.png", "checkpoints/RISE_rotated_trial0_seed1.pt", "done"]:
        assert (d/f).exists(), f
    cmp = pd.read_csv(d/"student_vs_erm.csv")
    assert cmp.verdict.iloc[0] in {"better", "worse", "within seed spread"}
    m = pd.read_json(d/"metrics.jsonl", lines=True)
    assert {"kd", "ce", "ad", "rd"} <= set(m.metric)                       # the RISE losses were logged
    rec = m[m.metric == "rise_minus_erm"].value.item()
    assert abs(rec - (cmp.RISE - cmp.ERM).item()) < 1e-9
    rep = json.loads((d/"reports"/"RISE_rotated_trial0_seed0.json").read_text())
    assert rep["hparams"]["teacher"] == str(stage1_run.parent) and rep["hparams"]["w_kd"] == 0.9
    assert rep["hparams"]["embed_dim"] == 32                               # the Stage 1 run's embed_dim


def test_teacher_that_saw_the_test_domain_is_refused(teachers):
    "Checked where a unit meets its teacher (RISE.prepare), in this process: no stage run needed."
    import oodgen.train.distill  # noqa: F401  (registers RISE)
    from oodgen.data.domains import DigitsDG, split_domains
    from oodgen.train.loop import build_algorithm
    ds = DigitsDG(domains=["gray", "colored", "rotated", "inverted"])
    alg = build_algorithm("RISE", ds.num_classes, {"teacher": str(teachers["leaky"])})
    with pytest.raises(ValueError, match=r"held-out domain\(s\) \['colored'\]"):
        alg.prepare(split_domains(ds, ["colored"]), ds.classes)


def test_unit_result_does_not_depend_on_teachers_already_loaded(tmp_path, teachers):
    "Loading a teacher must not consume the seeded RNG: the same unit gives the same student first or later in a process."
    import shutil
    import oodgen.train.distill as distill
    from oodgen.benchmark import train_unit, unit_jobs
    from oodgen.data.domains import DigitsDG
    (tmp_path/"stage1-colored"/"checkpoints").mkdir(parents=True)
    shutil.copy(teachers["clean"], tmp_path/"stage1-colored"/"checkpoints"/"best.pt")
    ds = DigitsDG(domains=["gray", "colored", "rotated", "inverted"])
    job = unit_jobs(ds, ["RISE"], ["colored"], 1, [0], False)[0]
    kw = dict(steps=3, hparams={"teacher": str(tmp_path)}, holdout=0.2, device="cpu", eval_every=None, hparams_seed=0,
              ckpt_dir=None)
    for k in [k for k in distill._TEACHERS if str(tmp_path) in k]: del distill._TEACHERS[k]
    first = train_unit(ds, job, **kw)        # loads the teacher
    again = train_unit(ds, job, **kw)        # teacher cached
    assert first["records"] == again["records"]
