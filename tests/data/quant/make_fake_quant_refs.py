#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference values for pare's fake quantization with gradients (quant/fake_quant.hpp):
straight-through estimator = autograd of torch.fake_quantize_per_{tensor,channel}_affine, and
LSQ = torch._fake_quantize_learnable_per_{tensor,channel}_affine with grad_factor.

Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/data/quant/make_fake_quant_refs.py
Writes fake_quant.txt next to this script (floats with 9 significant digits: exact float32).
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(2024)


def fmt(t):
    return " ".join("%.9g" % v for v in t.detach().flatten().tolist())


lines = []
# Per tensor: (tag, scale, zero point, qmin, qmax); x spans well beyond the clipping range.
for tag, scale, zp, qmin, qmax in [("int8_affine", 0.031, 5, -128, 127),
                                   ("uint8_affine", 0.027, 97, 0, 255),
                                   ("int4_symmetric", 0.37, 0, -8, 7),
                                   ("uint4_affine", 0.41, 6, 0, 15),
                                   ("int2_symmetric", 0.9, 0, -2, 1)]:
    x = (torch.randn(160) * 2.5).float()
    dy = torch.randn(160).float()
    xs = x.clone().requires_grad_(True)
    y = torch.fake_quantize_per_tensor_affine(xs, scale, zp, qmin, qmax)
    y.backward(dy)
    g = 1.0 / (x.numel() * qmax) ** 0.5
    xl = x.clone().requires_grad_(True)
    s = torch.tensor([scale], requires_grad=True)
    z = torch.tensor([float(zp)], requires_grad=True)
    yl = torch._fake_quantize_learnable_per_tensor_affine(xl, s, z, qmin, qmax, g)
    yl.backward(dy)
    lines.append("tensor %s %.9g %d %d %d %.9g" % (tag, scale, zp, qmin, qmax, g))
    lines.append("x " + fmt(x))
    lines.append("dy " + fmt(dy))
    lines.append("ste_y " + fmt(y))
    lines.append("ste_dx " + fmt(xs.grad))
    lines.append("lsq_y " + fmt(yl))
    lines.append("lsq_dx " + fmt(xl.grad))
    lines.append("lsq_dscale " + fmt(s.grad))
    lines.append("lsq_dzp " + fmt(z.grad))

# Per channel along axis 0 of a [5, 32] weight, int4 affine and int8 symmetric.
for tag, qmin, qmax in [("int4", -8, 7), ("int8", -128, 127)]:
    w = (torch.randn(5, 32) * torch.linspace(0.5, 3.0, 5).unsqueeze(1)).float()
    dy = torch.randn(5, 32).float()
    scales = (torch.linspace(0.1, 0.5, 5) * (8.0 / (qmax + 1))).float()
    zps = torch.tensor([0, 1, -2, 3, 0], dtype=torch.int32)
    ws = w.clone().requires_grad_(True)
    y = torch.fake_quantize_per_channel_affine(ws, scales, zps, 0, qmin, qmax)
    y.backward(dy)
    g = 1.0 / (w.numel() * qmax) ** 0.5
    wl = w.clone().requires_grad_(True)
    s = scales.clone().requires_grad_(True)
    z = zps.float().clone().requires_grad_(True)
    yl = torch._fake_quantize_learnable_per_channel_affine(wl, s, z, 0, qmin, qmax, g)
    yl.backward(dy)
    lines.append("channel %s %d %d %.9g" % (tag, qmin, qmax, g))
    lines.append("scales " + fmt(scales))
    lines.append("zps " + " ".join(str(int(v)) for v in zps))
    lines.append("x " + fmt(w))
    lines.append("dy " + fmt(dy))
    lines.append("ste_y " + fmt(y))
    lines.append("ste_dx " + fmt(ws.grad))
    lines.append("lsq_y " + fmt(yl))
    lines.append("lsq_dx " + fmt(wl.grad))
    lines.append("lsq_dscale " + fmt(s.grad))
    lines.append("lsq_dzp " + fmt(z.grad))

with open(os.path.join(HERE, "fake_quant.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote fake_quant.txt")
