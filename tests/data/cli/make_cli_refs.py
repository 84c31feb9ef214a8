#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the model the CLI test (examples/cli/cli_test.cmake) compresses and evaluates.

  digits_mlp.pt   state_dict of nn.Sequential(Linear(64, 64), ReLU, Linear(64, 10)) trained with
                  PyTorch on the first 1437 rows of examples/data/digits.csv (the demo's split
                  is seeded differently; this one is simply train = first 1437 rows)
  expected.txt    PyTorch's accuracy on all 1797 rows (percent, two decimals) — `pare eval` on
                  the float model must print exactly this, since it computes the same function

Run from anywhere: /usr/bin/python3 tests/data/cli/make_cli_refs.py
"""
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(OUT, '..', '..', '..'))

data = np.loadtxt(os.path.join(ROOT, 'examples', 'data', 'digits.csv'), delimiter=',',
                  dtype=np.float32)
x = torch.from_numpy(data[:, :64] / 16.0)
y = torch.from_numpy(data[:, 64].astype(np.int64))

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(40):
    perm = torch.randperm(1437)
    for i in range(0, 1437, 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
model.eval()
with torch.no_grad():
    acc = (model(x).argmax(1) == y).float().mean().item() * 100
torch.save(model.state_dict(), os.path.join(OUT, 'digits_mlp.pt'))
with open(os.path.join(OUT, 'expected.txt'), 'w') as f:
    f.write(f'{acc:.2f}\n')
print(f'accuracy on all rows: {acc:.2f} %')
