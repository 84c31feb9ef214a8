#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the models and data the CLI test (examples/cli/cli_test.cmake) runs, and PyTorch's
accuracies that `pare eval` must reproduce to the last printed digit.

  digits_mlp.pt     state_dict of nn.Sequential(Linear(64, 64), ReLU, Linear(64, 10)) trained with
                    PyTorch on the first 1437 rows of examples/data/digits.csv (the demo's split
                    is seeded differently; this one is simply train = first 1437 rows)
  digits_tanh.onnx  nn.Sequential(Linear(64, 32), Tanh, Linear(32, 10)) trained the same way and
                    exported with torch.onnx.export (Gemm > Tanh > Gemm, input 'x' [n, 64]): a
                    graph model whose weights look like an MLP state_dict but whose activation
                    is not ReLU
  digits_test.npz   the last 360 rows as x [360, 64] float16 (pixel / 16 is exact in f16) and
                    y [360] uint8, for `pare eval MODEL DATA.npz`
  expected.txt      one `name accuracy` line per case (percent, two decimals):
                      digits_mlp        digits_mlp.pt on all 1797 rows of digits.csv
                      digits_mlp_test   digits_mlp.pt on digits_test.npz
                      digits_tanh       digits_tanh.onnx on all 1797 rows
                      cnn_test          tests/data/onnx/cnn.onnx on cnn__x.npy / cnn__y.npy
                                        (from the logits PyTorch computed, cnn__logits.npy)

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


def train(model):
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
    return model


def accuracy(model, rows=slice(None)):
    with torch.no_grad():
        return (model(x[rows]).argmax(1) == y[rows]).float().mean().item() * 100


expected = {}

# Training is reproducible on one machine, not across CPUs and BLAS builds; docs/cli.md quotes
# outputs of the committed model, so it is trained only when absent (delete it to retrain).
mlp = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
mlp_path = os.path.join(OUT, 'digits_mlp.pt')
if os.path.exists(mlp_path):
    mlp.load_state_dict(torch.load(mlp_path))
    mlp.eval()
else:
    torch.manual_seed(0)
    train(mlp)
    torch.save(mlp.state_dict(), mlp_path)
expected['digits_mlp'] = accuracy(mlp)
expected['digits_mlp_test'] = accuracy(mlp, slice(1437, None))

torch.manual_seed(1)
tanh = train(nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)))
torch.onnx.export(tanh, x[:1], os.path.join(OUT, 'digits_tanh.onnx'), opset_version=13,
                  input_names=['x'], output_names=['logits'], dynamic_axes={'x': {0: 'n'}})
expected['digits_tanh'] = accuracy(tanh)

# float16 holds every pixel / 16 exactly, so pare's conversion to f32 gives PyTorch's inputs.
np.savez(os.path.join(OUT, 'digits_test.npz'), x=x[1437:].numpy().astype(np.float16),
         y=y[1437:].numpy().astype(np.uint8))

onnx_dir = os.path.join(ROOT, 'tests', 'data', 'onnx')
logits = np.load(os.path.join(onnx_dir, 'cnn__logits.npy'))
labels = np.load(os.path.join(onnx_dir, 'cnn__y.npy'))
expected['cnn_test'] = float((logits.argmax(1) == labels).mean()) * 100

with open(os.path.join(OUT, 'expected.txt'), 'w') as f:
    for name, acc in expected.items():
        f.write(f'{name} {acc:.2f}\n')
for name, acc in expected.items():
    print(f'{name}: {acc:.2f} %')
