"""GPU check: every stage's step once on CUDA with synthetic inputs, mixed precision on and off, torch.compile on and off.

    python tests/gpu_check.py                 # on a CUDA machine (make gpu-check); skips cleanly without one
    python tests/gpu_check.py --device cpu --tiny   # the same checks, tiny, on CPU (what the test suite runs)

For each check it prints the stage step's throughput next to the bare encoders' own forward + backward on the same
batch (the ratio is the figure: how much of the step the encoders are; the rest is the stage's own overhead), and
the peak GPU memory. Synthetic inputs and random weights (nothing to download): it measures the machinery, not
accuracy. Stage 2 / benchmark steps are timed under autocast here; the trainer itself runs them in fp32.
"""
import argparse, contextlib, sys, time

import torch
import torch.nn.functional as F


def timed(fn, steps: int, device) -> float:
    "Seconds per call of `fn` after 2 warm-up calls (synchronised on CUDA)."
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2): fn()
    sync(); t = time.perf_counter()
    for _ in range(steps): fn()
    sync(); return (time.perf_counter() - t) / steps


def amp(device, dtype):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def check_stage1(a, device, dtype, compile_):
    "Stage 1 step (trainable image tower, MiniLM caption tower frozen as in the default) vs the towers' forward + backward."
    from oodgen.models.cross_attention import ImageTextMatcher
    from oodgen.models.encoders import create_image_encoder, create_text_encoder
    from oodgen.train.contrastive import clip_loss
    ie = create_image_encoder(a.image_encoder, pretrained=False, trainable=True, input_size=a.size)
    te = create_text_encoder(a.text_encoder, pretrained=a.text_encoder == "minilm", trainable=False)
    m = ImageTextMatcher(ie, te, embed_dim=256, heads=4).to(device)
    fwd = torch.compile(m) if compile_ else m
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4)
    x = torch.rand(a.batch, 3, a.size, a.size, device=device)       # images in [0, 1]: the models normalise inside
    caps = [f"a photo of a class {k % 10} object, style {k % 4}" for k in range(a.batch)]
    def step():
        with amp(device, dtype):
            out = fwd(images=x, texts=caps)
            loss = clip_loss(out["logits_global"].float()) + clip_loss(out["logits_cross"].float())
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    def towers():
        with amp(device, dtype):
            loss = ie(x).pooled.float().mean() + te.encode(caps).pooled.float().mean()
        loss.backward(); ie.zero_grad(set_to_none=True)
    return step, towers, a.batch


def check_stage2(a, device, dtype, compile_):
    "A DG training step (ERM, one minibatch per each of 3 domains) vs the bare backbone's forward + backward."
    import oodgen.train.algorithms  # noqa: F401  (registers ERM)
    from oodgen.train.loop import build_algorithm
    alg = build_algorithm("ERM", 10, {"backbone": a.image_encoder, "pretrained": False}, num_domains=3).to(device)
    if compile_: alg.network = torch.compile(alg.network)
    mbs = [(torch.rand(a.batch // 3 or 1, 3, a.size, a.size, device=device), torch.randint(0, 10, (a.batch // 3 or 1,), device=device))
           for _ in range(3)]
    x, y = torch.cat([m[0] for m in mbs]), torch.cat([m[1] for m in mbs])
    def step():
        with amp(device, dtype): alg.update(mbs)
    def bare():
        with amp(device, dtype): loss = F.cross_entropy(alg.network(x).float(), y)
        loss.backward(); alg.network.zero_grad(set_to_none=True)
    return step, bare, len(x)


def check_gradcam(a, device, dtype, compile_):
    "Grad-CAM maps of a classifier vs its forward + backward (the CAM's own floor)."
    from oodgen.eval.saliency import compute_cam
    from oodgen.models.classifiers import create_classifier
    model = create_classifier(a.image_encoder, 10, pretrained=False).to(device).eval()
    x = torch.rand(a.batch, 3, a.size, a.size, device=device)       # images in [0, 1]: the models normalise inside
    def step(): compute_cam(model, x, method="gradcam", batch_size=a.batch)
    def bare():
        x.requires_grad_(True); model(x).max(1).values.sum().backward(); model.zero_grad(set_to_none=True); x.grad = None
    return step, bare, a.batch


def check_outputs(a, device, dtype, compile_):
    "`model_outputs` (logits + features over a dataset) vs the bare no-grad forward."
    from torch.utils.data import TensorDataset
    from oodgen.eval.outputs import model_outputs
    from oodgen.models.classifiers import create_classifier
    model = create_classifier(a.image_encoder, 10, pretrained=False).to(device).eval()
    x = torch.rand(a.batch * 2, 3, a.size, a.size)
    ds = TensorDataset(x, torch.zeros(len(x), dtype=torch.long))
    xd = x.to(device)
    def step():
        with amp(device, dtype): model_outputs(model, ds, device=device, batch_size=a.batch, progress=False)
    @torch.no_grad()
    def bare():
        with amp(device, dtype):
            for i in range(0, len(xd), a.batch): model(xd[i:i + a.batch])
    return step, bare, len(x)


CHECKS = {"stage1": check_stage1, "stage2": check_stage2, "gradcam": check_gradcam, "outputs": check_outputs}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda"); ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--checks", default=",".join(CHECKS)); ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    a = ap.parse_args(argv)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu-check: no CUDA GPU here (torch.cuda.is_available() is False): skipped"); return 0
    device = torch.device(a.device)
    a.image_encoder, a.text_encoder = ("resnet18", "bigru") if a.tiny else ("resnet50", "minilm")
    a.size, a.batch = (64, 6) if a.tiny else (224, 96)
    if a.tiny: a.steps = min(a.steps, 2)
    if device.type != "cuda": a.no_compile = True     # compiling on CPU takes minutes and says nothing about a GPU
    half = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if device.type == "cuda" else torch.bfloat16
    rows = []
    print(f"gpu-check on {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}, torch {torch.__version__}, "
          f"{a.image_encoder} at {a.size}px, batch {a.batch}")
    for name in a.checks.split(","):
        for dtype in (None, half):
            for compile_ in ((False,) if a.no_compile or name in ("gradcam", "outputs") else (False, True)):
                if device.type == "cuda": torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)
                t0 = time.perf_counter()
                try:
                    step, bare, n = CHECKS[name](a, device, dtype, compile_)
                    s, b = timed(step, a.steps, device), timed(bare, a.steps, device)
                    row = dict(check=name, precision=str(dtype).replace("torch.", "") if dtype else "fp32", compile=compile_,
                               step_per_s=round(1 / s, 2), items_per_s=round(n / s, 1), bare_per_s=round(1 / b, 2),
                               ratio=round(b / s, 2), peak_mem_gb=round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
                               if device.type == "cuda" else 0.0, seconds=round(time.perf_counter() - t0, 1), error="")
                except Exception as e:      # one failing check must not hide the others
                    row = dict(check=name, precision=str(dtype).replace("torch.", "") if dtype else "fp32", compile=compile_,
                               error=f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}")
                rows.append(row); print(row, flush=True)
    import pandas as pd
    t = pd.DataFrame(rows)
    print("\n" + t.to_markdown(index=False))
    return 1 if t["error"].astype(bool).any() else 0


if __name__ == "__main__": sys.exit(main())
