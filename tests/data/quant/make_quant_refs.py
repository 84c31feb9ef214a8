#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference values for pare's quantization tests, computed by PyTorch (torch.ao.quantization).

Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/data/quant/make_quant_refs.py
Writes small text files next to this script. Floats are written with 9 significant digits, which
round-trips float32 exactly.
"""
import os
import torch
from torch.ao.quantization.observer import (MinMaxObserver, MovingAverageMinMaxObserver,
                                            PerChannelMinMaxObserver)

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)


def fmt(t):
    return " ".join("%.9g" % v for v in t.flatten().tolist())


def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


# A 1-D sample with a skew and two outliers: the interesting case for observers.
x = (torch.randn(256) * 1.5 + 0.4).float()
x[17] = 9.25
x[200] = -4.5

lines = ["x " + fmt(x)]
for dtype, qmin, qmax, scheme, tag in [
        (torch.qint8, -128, 127, torch.per_tensor_affine, "int8_affine"),
        (torch.qint8, -128, 127, torch.per_tensor_symmetric, "int8_symmetric"),
        (torch.quint8, 0, 255, torch.per_tensor_affine, "uint8_affine"),
        (torch.quint8, 0, 255, torch.per_tensor_symmetric, "uint8_symmetric"),
        (torch.qint8, -8, 7, torch.per_tensor_affine, "int4_affine"),
        (torch.qint8, -8, 7, torch.per_tensor_symmetric, "int4_symmetric"),
        (torch.quint8, 0, 15, torch.per_tensor_affine, "uint4_affine")]:
    # The full 8-bit ranges are passed as defaults: with an explicit ("customized") range PyTorch
    # puts the quint8 symmetric zero point at 127 instead of 128.
    custom = {} if (qmin, qmax) in [(-128, 127), (0, 255)] else dict(quant_min=qmin, quant_max=qmax)
    obs = MinMaxObserver(dtype=dtype, qscheme=scheme, **custom)
    obs(x)
    scale, zp = obs.calculate_qparams()
    y = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zp), qmin, qmax)
    lines.append("minmax %s %d %d %.9g %d" % (tag, qmin, qmax, float(scale), int(zp)))
    lines.append("fq %s " % tag + fmt(y))
write("per_tensor.txt", lines)

# Moving average over five batches of different spread.
lines = []
obs = MovingAverageMinMaxObserver(averaging_constant=0.01, dtype=torch.quint8,
                                  qscheme=torch.per_tensor_affine)
for i in range(5):
    b = (torch.randn(64) * (1.0 + i) + 0.1 * i).float()
    obs(b)
    lines.append("batch " + fmt(b))
scale, zp = obs.calculate_qparams()
lines.append("range %.9g %.9g" % (float(obs.min_val), float(obs.max_val)))
lines.append("qparams %.9g %d" % (float(scale), int(zp)))
write("moving_average.txt", lines)

# Per-channel symmetric int8 weights (output channels on axis 0), PyTorch's default for weights.
w = (torch.randn(16, 40) * torch.linspace(0.1, 2.0, 16).unsqueeze(1)).float()
obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
obs(w)
scales, zps = obs.calculate_qparams()
y = torch.fake_quantize_per_channel_affine(w, scales, zps.to(torch.int32), 0, -128, 127)
write("per_channel.txt", ["shape 16 40", "w " + fmt(w), "scales " + fmt(scales),
                          "zero_points " + " ".join(str(int(v)) for v in zps), "fq " + fmt(y)])
print("wrote per_tensor.txt, moving_average.txt, per_channel.txt")
