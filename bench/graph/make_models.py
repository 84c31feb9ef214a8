#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the models and inputs of the graph-runtime benchmark (scripts/bench-graph.sh --suite)
into OUT: torchvision's resnet18 and mobilenet_v3_small at 224×224 and a BERT-style encoder
(4 layers, width 256, 4 heads, sequence 128, written in plain torch), each exported with a
dynamic batch (opset 17, random initialization, seed 0), with float32 inputs of batch 1 and 16
as OUT/<model>__b1.npy and OUT/<model>__b16.npy. Needs python3-torch and python3-torchvision.

  /usr/bin/python3 bench/graph/make_models.py OUT
"""
import math
import os
import sys

import numpy as np
import torch
import torchvision


class EncoderLayer(torch.nn.Module):
    """A post-norm transformer encoder layer as BERT has it, in plain ops (exact GELU)."""

    def __init__(self, width, heads, hidden):
        super().__init__()
        self.heads = heads
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.out = torch.nn.Linear(width, width)
        self.norm1 = torch.nn.LayerNorm(width)
        self.up = torch.nn.Linear(width, hidden)
        self.down = torch.nn.Linear(hidden, width)
        self.norm2 = torch.nn.LayerNorm(width)

    def forward(self, x):
        b, s, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.reshape(b, s, h, d // h).transpose(1, 2)
        k = k.reshape(b, s, h, d // h).transpose(1, 2)
        v = v.reshape(b, s, h, d // h).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1) @ v
        x = self.norm1(x + self.out(a.transpose(1, 2).reshape(b, s, d)))
        return self.norm2(x + self.down(torch.nn.functional.gelu(self.up(x))))


class Encoder(torch.nn.Module):
    def __init__(self, layers=4, width=256, heads=4, hidden=1024):
        super().__init__()
        self.layers = torch.nn.ModuleList(EncoderLayer(width, heads, hidden) for _ in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def export(model, example, path, batched_inputs):
    model.eval()
    axes = {'x': {0: 'batch'}, 'y': {0: 'batch'}}
    torch.onnx.export(model, example, path, opset_version=17, input_names=['x'],
                      output_names=['y'], dynamic_axes=axes)
    base = path[:-len('.onnx')]
    for batch, x in batched_inputs.items():
        np.save('%s__b%d.npy' % (base, batch), x.numpy().astype(np.float32))
    print(path, os.path.getsize(path), 'bytes')


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make_models.py OUT')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    images = {b: torch.randn(b, 3, 224, 224) for b in (1, 16)}
    with torch.no_grad():
        for name in ('resnet18', 'mobilenet_v3_small'):
            model = getattr(torchvision.models, name)()
            export(model, images[1], os.path.join(out, name + '.onnx'), images)
        tokens = {b: torch.randn(b, 128, 256) for b in (1, 16)}
        export(Encoder(), tokens[1], os.path.join(out, 'bert_encoder.onnx'), tokens)


if __name__ == '__main__':
    main()
