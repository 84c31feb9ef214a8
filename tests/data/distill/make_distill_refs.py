#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference values for tests/distill/reference_test.cpp, computed with PyTorch.

Inputs are random float32 tensors; every reference is computed in float64 from those exact
float32 values with PyTorch's own functions and autograd:
  SoftKL       F.kl_div(log_softmax(s/T), log_softmax(t/T), "batchmean", log_target=True) * T*T
  ReverseKL    the same with s and t swapped
  JensenShannon  0.5 * (KL(q || m) + KL(p || m)) * T*T, m = (p + q) / 2, batchmean
  HardLabel    F.cross_entropy(s, y, label_smoothing=eps)
  TeacherArgmax  F.cross_entropy(s, t.argmax(1), label_smoothing=eps)
  DKD          dkd_loss from mdistiller (megvii-research/mdistiller, mdistiller/distillers/DKD.py),
               copied verbatim below
  SoftTeacherForcing  per-token KL over [B, S, V], summed over unmasked tokens / mask.sum()
  FeatureMSE   F.mse_loss;  FeatureCosine  (1 - F.cosine_similarity(fs, ft, dim=1)).mean()
  Hint         F.mse_loss(F.linear(fs, W, b), ft), gradients wrt fs, W and b
  AttentionTransfer  (at(fs) - at(ft)).pow(2).mean(), at(x) = F.normalize(x.abs().pow(p).mean(1)
               .view(N, -1)) — mdistiller's AT with |x| so that odd p is defined
Gradients are wrt the student tensor (d loss / d s).

Writes distill_refs.txt next to this script: lines "name ndim d0 d1 ... v0 v1 ..." with float32
values printed exactly (9 significant digits). Run: /usr/bin/python3 make_distill_refs.py
"""
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)
lines = []


def put(name, t):
    t = torch.as_tensor(t).detach().to(torch.float32).contiguous()
    dims = " ".join(str(d) for d in t.shape)
    vals = " ".join("%.9g" % v for v in t.flatten().tolist())
    lines.append(f"{name} {t.dim()} {dims} {vals}")


def f32(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).to(torch.float32)


def grad_of(fn, x, *rest):
    x = x.double().clone().requires_grad_(True)
    v = fn(x, *rest)
    v.backward()
    return v.detach(), x.grad


# ---- mdistiller's DKD, verbatim ----
def _get_gt_mask(logits, target):
    target = target.reshape(-1)
    mask = torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1).bool()
    return mask


def _get_other_mask(logits, target):
    target = target.reshape(-1)
    mask = torch.ones_like(logits).scatter_(1, target.unsqueeze(1), 0).bool()
    return mask


def cat_mask(t, mask1, mask2):
    t1 = (t * mask1).sum(dim=1, keepdims=True)
    t2 = (t * mask2).sum(1, keepdims=True)
    rt = torch.cat([t1, t2], dim=1)
    return rt


def dkd_loss(logits_student, logits_teacher, target, alpha, beta, temperature):
    gt_mask = _get_gt_mask(logits_student, target)
    other_mask = _get_other_mask(logits_student, target)
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    pred_student = cat_mask(pred_student, gt_mask, other_mask)
    pred_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    log_pred_student = torch.log(pred_student)
    tckd_loss = (
        F.kl_div(log_pred_student, pred_teacher, size_average=False)
        * (temperature**2)
        / target.shape[0]
    )
    pred_teacher_part2 = F.softmax(
        logits_teacher / temperature - 1000.0 * gt_mask, dim=1
    )
    log_pred_student_part2 = F.log_softmax(
        logits_student / temperature - 1000.0 * gt_mask, dim=1
    )
    nckd_loss = (
        F.kl_div(log_pred_student_part2, pred_teacher_part2, size_average=False)
        * (temperature**2)
        / target.shape[0]
    )
    return alpha * tckd_loss + beta * nckd_loss
# ---- end of mdistiller ----


def soft_kl(s, t, T):
    return F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="batchmean",
                    log_target=True) * T * T


def reverse_kl(s, t, T):
    return F.kl_div(F.log_softmax(t / T, 1), F.log_softmax(s / T, 1), reduction="batchmean",
                    log_target=True) * T * T


def jensen_shannon(s, t, T):
    p, q = F.softmax(s / T, 1), F.softmax(t / T, 1)
    m = 0.5 * (p + q)
    kl = lambda a, b: (a * (a.log() - b.log())).sum() / s.shape[0]
    return 0.5 * (kl(q, m) + kl(p, m)) * T * T


def masked_kl(s, t, T, mask):  # per-row KL, weighted by mask, averaged over mask.sum()
    per_row = F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="none",
                       log_target=True).sum(1)
    return (per_row * mask).sum() / mask.sum() * T * T


for tag, (n, c) in {"small": (6, 37), "wide": (3, 1003)}.items():
    s, t = f32(n, c, scale=3.0), f32(n, c, scale=3.0)
    y = torch.randint(0, c, (n,))
    put(f"{tag}.s", s)
    put(f"{tag}.t", t)
    put(f"{tag}.y", y)
    sd, td = s.double(), t.double()
    for T in (1.0, 4.0):
        put(f"{tag}.soft_kl.T{T:g}", torch.stack(grad_of(soft_kl, sd, td, T)[:1]))
        put(f"{tag}.soft_kl.T{T:g}.grad", grad_of(soft_kl, sd, td, T)[1])
    for name, fn, T in (("reverse_kl", reverse_kl, 2.0), ("js", jensen_shannon, 2.0)):
        v, g = grad_of(fn, sd, td, T)
        put(f"{tag}.{name}.T{T:g}", v.reshape(1))
        put(f"{tag}.{name}.T{T:g}.grad", g)
    for eps in (0.0, 0.1):
        v, g = grad_of(lambda x: F.cross_entropy(x, y, label_smoothing=eps), sd)
        put(f"{tag}.hard.eps{eps:g}", v.reshape(1))
        put(f"{tag}.hard.eps{eps:g}.grad", g)
    v, g = grad_of(lambda x: F.cross_entropy(x, td.argmax(1), label_smoothing=0.1), sd)
    put(f"{tag}.argmax.eps0.1", v.reshape(1))
    put(f"{tag}.argmax.eps0.1.grad", g)
    v, g = grad_of(lambda x: dkd_loss(x, td, y, 1.0, 8.0, 4.0), sd)
    put(f"{tag}.dkd", v.reshape(1))
    put(f"{tag}.dkd.grad", g)
    v, g = grad_of(lambda x: 0.7 * soft_kl(x, td, 4.0) + 0.3 * F.cross_entropy(x, y), sd)
    put(f"{tag}.composed", v.reshape(1))
    put(f"{tag}.composed.grad", g)
    mask = (torch.rand(n) > 0.3).to(torch.float32)
    mask[0] = 1.0
    put(f"{tag}.mask", mask)
    v, g = grad_of(lambda x: masked_kl(x, td, 2.0, mask.double()), sd)
    put(f"{tag}.masked_kl.T2", v.reshape(1))
    put(f"{tag}.masked_kl.T2.grad", g)

# Sequences: [B, S, V] logits, [B, S] padding mask.
B, S, V = 2, 4, 19
s, t = f32(B, S, V, scale=2.0), f32(B, S, V, scale=2.0)
mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.float32)
put("seq.s", s)
put("seq.t", t)
put("seq.mask", mask)
for T in (1.0, 2.0):
    def seq_kl(x):
        lp, lq = F.log_softmax(x / T, -1), F.log_softmax(t.double() / T, -1)
        per_token = (lq.exp() * (lq - lp)).sum(-1)
        return (per_token * mask.double()).sum() / mask.double().sum() * T * T
    v, g = grad_of(seq_kl, s.double())
    put(f"seq.T{T:g}", v.reshape(1))
    put(f"seq.T{T:g}.grad", g)

# Features.
N, D = 5, 12
fs, ft = f32(N, D), f32(N, D)
put("feat.s", fs)
put("feat.t", ft)
v, g = grad_of(lambda x: F.mse_loss(x, ft.double()), fs.double())
put("feat.mse", v.reshape(1))
put("feat.mse.grad", g)
v, g = grad_of(lambda x: (1 - F.cosine_similarity(x, ft.double(), dim=1)).mean(), fs.double())
put("feat.cosine", v.reshape(1))
put("feat.cosine.grad", g)

DS = 7
hs = f32(N, DS)
W, b = f32(D, DS, scale=0.4), f32(D, scale=0.2)
put("hint.s", hs)
put("hint.w", W)
put("hint.b", b)
x = hs.double().requires_grad_(True)
Wd, bd = W.double().requires_grad_(True), b.double().requires_grad_(True)
loss = F.mse_loss(F.linear(x, Wd, bd), ft.double())
loss.backward()
put("hint", loss.detach().reshape(1))
put("hint.grad", x.grad)
put("hint.w.grad", Wd.grad)
put("hint.b.grad", bd.grad)


def at(x, p):
    return F.normalize(x.abs().pow(p).mean(1).view(x.size(0), -1))


NA, CS, CT, H, Wd_ = 4, 3, 5, 2, 3
as_, at_ = f32(NA, CS, H, Wd_), f32(NA, CT, H, Wd_)
put("at.s", as_.reshape(NA, -1))
put("at.t", at_.reshape(NA, -1))
for p in (2.0, 3.0):
    v, g = grad_of(lambda x: (at(x, p) - at(at_.double(), p)).pow(2).mean(), as_.double())
    put(f"at.p{p:g}", v.reshape(1))
    put(f"at.p{p:g}.grad", g.reshape(NA, -1))

with open(os.path.join(HERE, "distill_refs.txt"), "w") as f:
    f.write(f"# Generated by make_distill_refs.py with torch {torch.__version__}; do not edit.\n")
    f.write("\n".join(lines) + "\n")
print("wrote", len(lines), "tensors")
