#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exports the model the server benchmark serves: a 3-layer MLP classifier (512 -> 2048 -> 2048
-> 10, GELU, 5.3 M parameters, 21 MB in float32) with a dynamic batch dimension, trained for a
few steps on random data so its weights are not a textbook initialization. Writes OUT.onnx and
OUT.x.json (one request body of 1 row).
Usage: /usr/bin/python3 scripts/serve/make_mlp.py OUT_PREFIX"""
import json
import sys

import torch

torch.manual_seed(0)
out = sys.argv[1]
model = torch.nn.Sequential(
    torch.nn.Linear(512, 2048), torch.nn.GELU(),
    torch.nn.Linear(2048, 2048), torch.nn.GELU(),
    torch.nn.Linear(2048, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for _ in range(20):
    x = torch.randn(64, 512)
    loss = torch.nn.functional.cross_entropy(model(x), torch.randint(0, 10, (64,)))
    opt.zero_grad()
    loss.backward()
    opt.step()
model.eval()
x = torch.randn(1, 512)
torch.onnx.export(model, x, out + ".onnx", input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
with open(out + ".x.json", "w") as f:
    json.dump({"inputs": [[round(v, 6) for v in x[0].tolist()]]}, f)
