"""Stage 2 (24_train.distill) on Digits-Shift, unit-level checks with random tiny teachers (the end-to-end Stage 2 run on
a real Stage 1 run is in test_stage1.py, next to the Stage 1 run it shares)."""
import pytest
import torch


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


def test_teacher_that_saw_the_test_domain_is_refused(teachers):
    "Checked where a unit meets its teacher (RISE.prepare), in this process: no stage run needed."
    import oodgen.train.distill  # noqa: F401  (registers RISE)
    from oodgen.data.domains import DigitsShift, split_domains
    from oodgen.train.loop import build_algorithm
    ds = DigitsShift(domains=["gray", "colored", "rotated", "inverted"])
    alg = build_algorithm("RISE", ds.num_classes, {"teacher": str(teachers["leaky"])})
    with pytest.raises(ValueError, match=r"held-out domain\(s\) \['colored'\]"):
        alg.prepare(split_domains(ds, ["colored"]), ds.classes)


def test_unit_result_does_not_depend_on_teachers_already_loaded(tmp_path, teachers):
    "Loading a teacher must not consume the seeded RNG: the same unit gives the same student first or later in a process."
    import shutil
    import oodgen.train.distill as distill
    from oodgen.benchmark import train_unit, unit_jobs
    from oodgen.data.domains import DigitsShift
    (tmp_path/"stage1-colored"/"checkpoints").mkdir(parents=True)
    shutil.copy(teachers["clean"], tmp_path/"stage1-colored"/"checkpoints"/"best.pt")
    ds = DigitsShift(domains=["gray", "colored", "rotated", "inverted"])
    job = unit_jobs(ds, ["RISE"], ["colored"], 1, [0], False)[0]
    kw = dict(steps=3, hparams={"teacher": str(tmp_path)}, holdout=0.2, device="cpu", eval_every=None, hparams_seed=0,
              ckpt_dir=None)
    for k in [k for k in distill.TEACHERS if str(tmp_path) in k]: del distill.TEACHERS[k]
    first = train_unit(ds, job, **kw)        # loads the teacher
    again = train_unit(ds, job, **kw)        # teacher cached
    assert first["records"] == again["records"]
