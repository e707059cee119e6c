"""teacher_head stage (25_train.teacher_head) end to end through `oodgen run`, on a tiny random Stage 1 teacher with
two stacked cross-attention layers (the quick Stage 1 run the stage makes without a teacher is what `stage1_run`
in test_stage1.py covers)."""
import json

import pandas as pd
import pytest
import torch

from oodgen.runs import run_stage


def tiny_teacher(path):
    "A random-weight Stage 1 teacher (frozen resnet18 at 32 px + tiny BiGRU, 2 cross layers) that never saw `rotated`."
    from oodgen.models.cross_attention import ImageTextMatcher, save_teacher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    torch.manual_seed(0)
    t = ImageTextMatcher(create_image_encoder("resnet18", pretrained=False, trainable=False, input_size=32),
                         create_text_encoder("bigru", pretrained=False, trainable=False, hidden=16, emb_dim=32),
                         embed_dim=16, heads=2, cross_layers=2)
    return save_teacher(t, path, train_domains=["gray", "colored", "inverted"], dataset="digits_shift", test_domain="rotated")


@pytest.fixture(scope="module")
def head_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("teacher_head")
    params = dict(teacher=str(tiny_teacher(d/"teacher.pt")), limit=30, corruptions=["gaussian_noise"], severities=[2],
                  seeds=[0, 1], device="cpu")
    return run_stage("teacher_head", params, name="th", out=d, progress=False), d/"teacher.pt"


def test_heads_on_frozen_teacher_features_are_scored_under_shift(head_run):
    run, _ = head_run
    for f in ["head_accuracy.csv", "head_accuracy.md", "head_accuracy_corruptions.md", "figures/head_accuracy.png", "done"]:
        assert (run/f).exists(), f
    t = pd.read_csv(run/"head_accuracy.csv", index_col=[0, 1, 2])
    assert set(t.index) == {("rotated", f, h) for f in ("global", "cross") for h in ("linear", "mlp", "zero-shot")}
    assert list(t.columns) == ["clean", "held-out domain", "corrupted", "drop (clean - worst shift)"]
    m = pd.read_json(run/"metrics.jsonl", lines=True)
    acc = m[m.metric == "acc"]
    assert len(acc) == 2 * 2 * 3 * 3                    # seeds x views x heads x {clean, rotated, gaussian_noise@2}
    assert set(acc["eval"]) == {"clean", "rotated", "gaussian_noise@2"} and acc.value.between(0, 1).all()
    # the table is a query over metrics.jsonl (mean over seeds, in %)
    want = 100 * acc[(acc.features == "cross") & (acc["head"] == "linear") & (acc["shift"] == "clean")].value.mean()
    assert t.loc[("rotated", "cross", "linear"), "clean"] == pytest.approx(want, abs=0.05)


def test_zero_shot_row_follows_rises_teacher_logits(head_run):
    "RISE (train_rise.py): teacher logits = 100 * norm(image emb) @ norm(mean over templates of class prompt embs).T."
    run, ck = head_run
    from oodgen.data.domains import DigitsShift
    from oodgen.models.cross_attention import load_teacher
    from oodgen.train.distill import RISE_TEMPLATES
    teacher, ds = load_teacher(ck), DigitsShift()
    rot = ds["rotated"]
    x, y = torch.stack([rot[i][0] for i in range(30)]), torch.tensor([rot[i][1] for i in range(30)])
    with torch.no_grad():
        img = torch.nn.functional.normalize(teacher.image_embedding(x), dim=-1)
        text = torch.stack([teacher.text_embedding([t.format(c) for t in RISE_TEMPLATES]).mean(0) for c in ds.classes])
        logits = 100 * img @ torch.nn.functional.normalize(text, dim=-1).T
    ours = pd.read_json(run/"metrics.jsonl", lines=True).query(
        "metric == 'acc' and features == 'global' and head == 'zero-shot' and eval == 'rotated' and seed == 0").value.item()
    # the stage reads the frozen encoder's features from the fp16 feature cache: one image may flip
    assert abs(ours - float((logits.argmax(1) == y).float().mean())) <= 1 / 30 + 1e-9
    assert json.loads((run/"params.json").read_text())["limit"] == 30

