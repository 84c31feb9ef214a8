# SPDX-License-Identifier: Apache-2.0
"""Reference values for tests/quant/nf4_test.cpp: QLoRA's NF4 blockwise quantization, written
from the bitsandbytes algorithm (functional.quantize_4bit with quant_type="nf4": per block the
absmax, each value divided by it and mapped to the nearest NF4 code, ties to the lower code as
the CUDA/CPU decision tree `dQuantizeNF4` does) in PyTorch.

Also the NF4 code values themselves, re-derived from their definition (create_normal_map with
offset 0.9677083): quantiles of N(0, 1), 8 positive and 7 negative, normalized to [-1, 1].

Writes nf4.txt:
    levels <16 values from create_normal_map>
    w <rows> <cols> <values>
    codes <group> <codes row-major>
    deq <group> <dequantized values row-major>
Run: /usr/bin/python3 tests/data/quant/make_nf4_refs.py
"""
import os

import torch

torch.manual_seed(1)


def create_normal_map(offset=0.9677083):
    """bitsandbytes functional.create_normal_map(offset, use_extra_value=True)."""
    n = torch.distributions.Normal(0, 1)
    v1 = n.icdf(torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1]).tolist()
    v3 = (-n.icdf(torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1])).tolist()
    v = torch.tensor(sorted(v1 + [0.0] + v3), dtype=torch.float64)
    return v / v.max()


def quantize_nf4(w, group, levels):
    rows, cols = w.shape
    blocks = w.reshape(rows, cols // group, group)
    absmax = blocks.abs().amax(dim=2, keepdim=True)
    normed = torch.where(absmax > 0, blocks / absmax, torch.zeros_like(blocks))
    mids = (levels[1:] + levels[:-1]) / 2
    codes = (normed.unsqueeze(-1) > mids).sum(-1)  # ties go to the lower code
    deq = levels[codes] * absmax
    return codes.reshape(rows, cols), deq.reshape(rows, cols)


def main():
    levels = create_normal_map()
    rows, cols = 5, 128
    w = torch.randn(rows, cols, dtype=torch.float32)
    w[1, 3] = 8.0  # an outlier
    w[2, 64:128] = 0.0  # an all-zero group
    levels32 = levels.float()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "nf4.txt"), "w") as f:
        f.write("levels " + " ".join(f"{v:.9g}" for v in levels.tolist()) + "\n")
        f.write(f"w {rows} {cols} " + " ".join(f"{v:.9g}" for v in w.flatten().tolist()) + "\n")
        for group in (32, 64):
            codes, deq = quantize_nf4(w, group, levels32)
            f.write(f"codes {group} " + " ".join(str(int(c)) for c in codes.flatten()) + "\n")
            f.write(f"deq {group} " + " ".join(f"{v:.9g}" for v in deq.flatten().tolist()) + "\n")


if __name__ == "__main__":
    main()
