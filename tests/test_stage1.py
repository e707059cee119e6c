"""Stage 1 (23_train.contrastive) end to end through `oodgen run` (tiny parameters, the real offline encoders), and
Stage 2 (24_train.distill) run on it as the pipeline chains them. Both use conftest's one shared `stage1_run`: they
stay in this file so that `pytest -n 2 --dist loadfile` makes that run once."""
import json
import pandas as pd
import torch
from conftest import oodgen_main
from oodgen.data.domains import DigitsShift

def test_stage1_run_logs_recall_and_saves_a_loadable_teacher(stage1_run):
    "The shared tiny run (conftest `stage1_run`: limit 16, 64 px, 2 epochs, held-out `rotated`)."
    d = stage1_run
    for f in ["23_train.contrastive.ipynb", "params.json", "metrics.jsonl", "done", "test_retrieval.csv", "test_retrieval.md",
              "figures/loss_curve.png", "figures/attention_maps.png", "checkpoints/best.pt", "checkpoints/last.pt"]:
        assert (d/f).exists(), f
    assert json.loads((d/"params.json").read_text())["limit"] == 16
    m = pd.read_json(d/"metrics.jsonl", lines=True)
    test = m[(m.split == "test") & (m.domain == "rotated")]
    for head in ["global", "cross", "chance"]:
        for k in ["i2t_R@1", "i2t_R@5", "i2t_R@10", "t2i_R@1", "t2i_R@5", "t2i_R@10"]:
            v = test[(test.metric == k) & (test["head"] == head)].value
            assert len(v) == 1 and 0 <= v.item() <= 1, (head, k)
    # 16 held-out images, 4 true captions each (2 templates x plain/"rotated") among 4 per class present: chance 1/classes
    rotated = DigitsShift()["rotated"]                       # the run's held-out images: the first 16 of the domain
    x, y = torch.stack([rotated[i][0] for i in range(16)]), torch.tensor([rotated[i][1] for i in range(16)])
    chance = test[(test.metric == "i2t_R@1") & (test["head"] == "chance")].value.item()
    assert abs(chance - 1 / len(set(y.tolist()))) < 1e-9
    assert set(m[(m.split == "val") & (m.metric == "rsum")].epoch) == {0, 1}
    assert (m[(m.split == "train") & (m.metric == "loss")].value > 0).all()

    from oodgen.models.cross_attention import load_teacher
    from oodgen.train.contrastive import class_text_embeddings
    ck = torch.load(d/"checkpoints"/"best.pt", weights_only=True)
    assert ck["config"]["image_encoder"] == {"name": "efficientnet_lite0", "kwargs": {"input_size": 64}}
    assert ck["config"]["text_encoder"]["name"] == "minilm" and ck["classes"][7] == "seven"
    teacher = load_teacher(d/"checkpoints"/"best.pt")
    with torch.no_grad():
        emb = teacher.image_embedding(x)
        cls = class_text_embeddings(teacher, ck["classes"], ck["templates"])
    assert emb.shape == (16, 32) and cls.shape == (10, 32)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(16), atol=1e-5)
    # the rebuilt teacher, from images, reproduces the zero-shot accuracy the run logged from cached (fp16) features
    zs = m[(m.metric == "zeroshot_acc") & (m["head"] == "global")].value.item()
    assert abs(float(((emb @ cls.T).argmax(1) == y).float().mean()) - zs) <= 1 / 16 + 1e-6


def test_stage2_run_on_stage1_runs_compares_student_with_erm(tmp_path, stage1_run):
    """The pipeline's chain: the teacher is a folder of stage1-<held-out domain>/ runs (here the shared tiny Stage 1 run).
    RISE distils its text-conditioned embedding here (`teacher_embedding=cross`: KD reads the cross head); the global
    one, the default, runs through the pipeline in test_pipeline_folder.py."""
    oodgen_main("run", "distill", "-p", "teacher", stage1_run.parent, "-p", "algorithms", "[ERM, RISE]",
               "-p", "test_domains", "[rotated]", "-p", "seeds", "[0, 1]", "-p", "steps", "5", "-p", "teacher_embedding", "cross",
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
    assert rep["hparams"]["teacher_embedding"] == "cross"
    assert rep["hparams"]["embed_dim"] == 32                               # the Stage 1 run's embed_dim


def test_unfinished_stage1_run_resumes_by_default(tmp_path, stage1_run):
    "Rerunning the same command into a Stage 1 folder killed before it finished continues from its last.pt (no -p resume)."
    import shutil
    from conftest import STAGE1_TINY
    d = tmp_path/"stage1-rotated"; shutil.copytree(stage1_run, d)
    (d/"done").unlink()                                       # killed after its last checkpoint, before the end
    train = lambda: len(pd.read_json(d/"metrics.jsonl", lines=True).query("split == 'train' and metric == 'loss'"))
    n = train()
    oodgen_main("run", "contrastive", *[a for k, v in STAGE1_TINY.items() for a in ("-p", k, v)],
               "--name", "stage1-rotated", "--out", tmp_path, "--quiet")
    assert (d/"done").exists() and json.loads((d/"params.json").read_text())["resume"] is True
    assert train() == n                                        # nothing trained twice: the run went on from last.pt
    assert not (d/".kernel").exists()                          # its kernel files went with it

