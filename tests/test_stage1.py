"""Stage 1 (23_train.contrastive) end to end through `oodgen run`: tiny parameters, the real offline encoders."""
import json
import pandas as pd
import pytest
import torch
from oodgen.data.domains import DigitsDG

@pytest.mark.xdist_group("stage1")
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
    rotated = DigitsDG()["rotated"]                       # the run's held-out images: the first 16 of the domain
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
