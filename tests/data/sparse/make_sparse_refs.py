#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference data for tests/sparse/, computed with PyTorch.

  w [37, 70], b [37], x [5, 70]   random float32 (torch.manual_seed(11))
  mask [37, 70] uint8             torch.nn.utils.prune.random_unstructured(amount=0.8) on a Linear
  mask24 [37, 70] uint8           2:4 by magnitude: the 2 largest |w| of every 4 consecutive columns
                                  (70 = 17 groups + a partial group of 2, which keeps both)
  y_masked [5, 37]                F.linear(x, w * mask, b), evaluated in float64, rounded to float32
  y_24 [5, 37]                    F.linear(x, w * mask24, b), likewise
  csr_crow, csr_col (int64), csr_val   (w * mask).to_sparse_csr(): PyTorch's CSR of the pruned w

Run: /usr/bin/python3 make_sparse_refs.py (writes the .npy files next to this script).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils import prune

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)

rows, cols, batch = 37, 70, 5
lin = torch.nn.Linear(cols, rows)
x = torch.randn(batch, cols)
prune.random_unstructured(lin, name="weight", amount=0.8)
w = lin.weight_orig.detach().clone()
b = lin.bias.detach().clone()
mask = lin.weight_mask.detach().to(torch.uint8)

mask24 = torch.zeros(rows, cols, dtype=torch.uint8)
for c0 in range(0, cols, 4):
    g = w[:, c0:c0 + 4].abs()
    k = min(2, g.shape[1])
    idx = g.topk(k, dim=1).indices + c0
    mask24.scatter_(1, idx, 1)


def linear64(m):
    return F.linear(x.double(), (w * m).double(), b.double()).float()


csr = (w * mask).to_sparse_csr()
out = {
    "w": w, "b": b, "x": x, "mask": mask, "mask24": mask24,
    "y_masked": linear64(mask), "y_24": linear64(mask24),
    "csr_crow": csr.crow_indices(), "csr_col": csr.col_indices(), "csr_val": csr.values(),
}
for name, t in out.items():
    np.save(os.path.join(HERE, name + ".npy"), t.detach().numpy())
