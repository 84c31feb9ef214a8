# SPDX-License-Identifier: Apache-2.0
"""Reference values for tests/quant/awq_test.cpp (AWQ and SmoothQuant), in PyTorch.

SmoothQuant: mit-han-lab/smoothquant smooth.py `smooth_ln_fcs` scales,
    s = (act_max.pow(alpha) / weight_max.pow(1 - alpha)).clamp(min=1e-5),
with act_max = max |X_j| and weight_max = max |W_j| (both clamped to 1e-5).
AWQ: mit-han-lab/llm-awq auto_scale.py `_search_module_scale`: for ratio k/20,
    s = x_mean.pow(ratio).clamp(min=1e-4); s = s / sqrt(s.max() * s.min())
    error = mean((X W^T - X (Q(W * s) / s)^T)^2)
with Q the zero-point 4-bit group quantizer written as pare's Quantizer<UInt<4>, Affine,
PerGroup<32>> computes it (torch's convention: the range is widened to include 0, scale in f32,
codes round(w * (1 / scale)) + zero point), so the two sides compare exactly.

Writes awq.txt:
    x <n> <in> <values>            w <out> <in> <values>
    sq_scales <alpha> <values>     awq_errors <20 errors>     awq_alpha <best alpha>
Run: /usr/bin/python3 tests/data/quant/make_awq_refs.py
"""
import os

import torch

torch.manual_seed(2)


def fake_quant_uint4_affine_g32(w):
    out = torch.empty_like(w)
    for g in range(0, w.shape[1], 32):
        blk = w[:, g:g + 32]
        lo = torch.clamp(blk.min(1, keepdim=True).values, max=0.0)
        hi = torch.clamp(blk.max(1, keepdim=True).values, min=0.0)
        scale = torch.clamp((hi - lo) / 15.0, min=torch.finfo(torch.float32).eps)
        zp = torch.clamp(0 - torch.round(lo / scale), 0, 15)
        q = torch.clamp(torch.round(blk * (1.0 / scale)) + zp, 0, 15)
        out[:, g:g + 32] = (q - zp) * scale
    return out


def main():
    n, cin, cout = 128, 64, 16
    x = torch.randn(n, cin) * 0.5
    for j, f in ((3, 20.0), (17, 12.0), (50, 8.0)):
        x[:, j] *= f  # outlier channels
    w = torch.randn(cout, cin) * 0.1
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "awq.txt"), "w") as f:
        f.write(f"x {n} {cin} " + " ".join(f"{v:.9g}" for v in x.flatten().tolist()) + "\n")
        f.write(f"w {cout} {cin} " + " ".join(f"{v:.9g}" for v in w.flatten().tolist()) + "\n")
        act_max = x.abs().amax(0).clamp(min=1e-5)
        w_max = w.abs().amax(0).clamp(min=1e-5)
        for alpha in (0.5, 0.8):
            s = (act_max.double().pow(alpha) / w_max.double().pow(1 - alpha)).clamp(min=1e-5)
            f.write(f"sq_scales {alpha} " + " ".join(f"{v:.9g}" for v in s.tolist()) + "\n")
        x_mean = x.abs().mean(0)
        y = x.double() @ w.double().t()
        errors = []
        for k in range(20):
            ratio = k / 20
            s = x_mean.pow(ratio).clamp(min=1e-4)
            s = s / (s.max() * s.min()).sqrt()
            wq = fake_quant_uint4_affine_g32(w * s.view(1, -1)) / s.view(1, -1)
            errors.append(((y - x.double() @ wq.double().t()) ** 2).mean().item())
        f.write("awq_errors " + " ".join(f"{e:.12g}" for e in errors) + "\n")
        best = min(range(20), key=lambda k: errors[k])
        f.write(f"awq_alpha {best / 20}\n")
        print("awq errors", errors[0], "->", errors[best], "at", best / 20)


if __name__ == "__main__":
    main()
