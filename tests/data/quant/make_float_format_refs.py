# SPDX-License-Identifier: Apache-2.0
"""Reference values for tests/quant/float_format_test.cpp.

f16 and bf16 casts by PyTorch (`w.half()`, `w.bfloat16()`); fp8 by an independent enumeration:
every OFP8 bit pattern is decoded from its definition (E4M3: bias 7, no infinities, S.1111.111
NaN; E5M2: bias 15, IEEE-like) and each scaled weight takes the nearest finite value, ties to the
pattern with an even mantissa, saturating at ±max. Scales are per output channel,
amax / max(format), computed in float32.

Writes float_format.txt:
    w <rows> <cols> <values>
    f16 <values>   bf16 <values>   e4m3 <dequantized values>   e5m2 <dequantized values>
Run: /usr/bin/python3 tests/data/quant/make_float_format_refs.py
"""
import os

import numpy as np
import torch

torch.manual_seed(3)


def fp8_values(ebits, mbits, bias, ieee):
    vals = []
    for b in range(256):
        s = -1.0 if b & 0x80 else 1.0
        e = (b >> mbits) & ((1 << ebits) - 1)
        m = b & ((1 << mbits) - 1)
        if ieee and e == (1 << ebits) - 1:
            continue  # inf / NaN
        if not ieee and e == (1 << ebits) - 1 and m == (1 << mbits) - 1:
            continue  # NaN
        if e == 0:
            v = s * m / (1 << mbits) * 2.0 ** (1 - bias)
        else:
            v = s * (1 + m / (1 << mbits)) * 2.0 ** (e - bias)
        vals.append((v, m % 2 == 0))
    return vals


def round_fp8(x, table):
    vmax = max(v for v, _ in table)
    out = np.empty_like(x)
    for i, v in enumerate(x.flat):
        v = float(v)
        if abs(v) >= vmax:
            out.flat[i] = np.sign(v) * vmax
            continue
        best = min(table, key=lambda t: (abs(t[0] - v), not t[1]))
        out.flat[i] = best[0]
    return out


def main():
    rows, cols = 6, 40
    w = torch.randn(rows, cols) * torch.tensor([1e-3, 0.05, 1.0, 30.0, 1e3, 0.2]).view(-1, 1)
    w[5, 7] = 0.0
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "float_format.txt"), "w") as f:
        f.write(f"w {rows} {cols} " + " ".join(f"{v:.9g}" for v in w.flatten().tolist()) + "\n")
        f.write("f16 " + " ".join(f"{v:.9g}" for v in w.half().float().flatten().tolist()) + "\n")
        f.write("bf16 " + " ".join(f"{v:.9g}" for v in w.bfloat16().float().flatten().tolist())
                + "\n")
        wn = w.numpy().astype(np.float32)
        for name, table in (("e4m3", fp8_values(4, 3, 7, False)),
                            ("e5m2", fp8_values(5, 2, 15, True))):
            vmax = np.float32(max(v for v, _ in table))
            scale = (np.abs(wn).max(axis=1, keepdims=True) / vmax).astype(np.float32)
            q = round_fp8((wn / scale).astype(np.float32), table).astype(np.float32) * scale
            f.write(f"{name} " + " ".join(f"{v:.9g}" for v in q.flatten().tolist()) + "\n")


if __name__ == "__main__":
    main()
