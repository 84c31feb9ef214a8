#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reference outputs of PyTorch's dynamic quantized Linear (onednn engine) for pare's Int8Linear test.

Scheme reproduced (pare::Int8Linear, dynamic): weights s8 per output channel, symmetric, scale =
max|w_row| / 127; activations u8 affine per row (token), parameters chosen by fbgemm's
ChooseQuantizationParams over the row; s32 accumulation; y = s_x s_w (acc - z_x Σw) + b in f32.
PyTorch's linear_dynamic quantizes its whole input with one set of parameters, so it is called
one row at a time (reduce_range=False: full 8-bit activations).

Writes int8_linear.txt: lines "key v0 v1 ...":
  shape in out rows; weight (out*in f32); bias; x (rows*in); wcode (torch's s8 weight codes);
  wscale; xscale / xzero (torch.quantize_per_tensor_dynamic's per-row choice); y (torch output).
Run: /usr/bin/python3 make_int8_linear_refs.py  (torch 1.13)
"""
import os

import torch

torch.manual_seed(5)
torch.backends.quantized.engine = "onednn"  # Debian's torch has no fbgemm
IN, OUT = 37, 19
w = torch.randn(OUT, IN) * 0.2
w[3] = 0.0  # an all-zero output channel
b = torch.randn(OUT) * 0.1
x = torch.randn(6, IN)
x[1] = x[1].abs()  # ReLU-like row: all codes above the zero point
x[2] = 0.0  # all-zero row
x[4] = x[4] * 1e-6  # tiny row: scale floor
x[5] = -x[5].abs() * 30  # all negative, large

scales = w.abs().amax(dim=1) / 127.0
scales = torch.where(scales > 0, scales, torch.ones_like(scales))
qw = torch.quantize_per_channel(w, scales.double(), torch.zeros(OUT, dtype=torch.long), 0,
                                torch.qint8)
packed = torch.ops.quantized.linear_prepack(qw, b)

ys, xs, xz = [], [], []
for r in range(x.shape[0]):
    row = x[r:r + 1]
    ys.append(torch.ops.quantized.linear_dynamic(row, packed, False))
    q = torch.quantize_per_tensor_dynamic(row, torch.quint8, False)
    xs.append(q.q_scale())
    xz.append(q.q_zero_point())
y = torch.cat(ys)


def line(key, values):
    return key + " " + " ".join(repr(float(v)) for v in values) + "\n"


out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "int8_linear.txt")
with open(out, "w") as f:
    f.write(f"shape {IN} {OUT} {x.shape[0]}\n")
    f.write(line("weight", w.flatten().tolist()))
    f.write(line("bias", b.tolist()))
    f.write(line("x", x.flatten().tolist()))
    f.write(line("wcode", qw.int_repr().flatten().tolist()))
    f.write(line("wscale", scales.tolist()))
    f.write(line("xscale", xs))
    f.write(line("xzero", xz))
    f.write(line("y", y.flatten().tolist()))
print("wrote", out)
