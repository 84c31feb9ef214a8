#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data for the compression tests of pare's runtime graph (tests/onnx/compress_test.cpp).

Writes, next to this script:
  cnn__calib.npy   the first 256 training rows of examples/data/digits.csv as [256, 1, 8, 8]
                   float32 (the digits CNN's calibration inputs; cnn.onnx is trained on the
                   first 1437 rows and tested on the last 360)

With --torchvision DIR (needs torch and torchvision; nothing here is committed, the files are a
few MB): resnet18 and mobilenet_v3_small, random init with torch.manual_seed(0), eval mode,
exported with torch.onnx.export at 1x3x64x64 (opset 17) as DIR/<name>.onnx, with
DIR/<name>__x.npy (4 seeded inputs), DIR/<name>__y.npy (PyTorch's outputs) and
DIR/<name>__calib.npy (16 more seeded inputs).

  /usr/bin/python3 tests/data/onnx/make_compress_refs.py
  /usr/bin/python3 tests/data/onnx/make_compress_refs.py --torchvision build/torchvision
"""
import os
import sys

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(OUT, '..', '..', '..'))


def make_calib():
    data = np.loadtxt(os.path.join(ROOT, 'examples', 'data', 'digits.csv'), delimiter=',',
                      dtype=np.int64)
    x = (data[:256, :64].astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    np.save(os.path.join(OUT, 'cnn__calib.npy'), x)


def make_torchvision(out):
    import torch
    import torchvision
    os.makedirs(out, exist_ok=True)
    for name in ('resnet18', 'mobilenet_v3_small'):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval()
        if name == 'mobilenet_v3_small':
            # random init leaves BatchNorm at identity and the activations' scale drifting
            # through 50 layers; one pass of running statistics on random inputs makes the
            # network's outputs carry signal, as a trained one does
            model.train()
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.momentum = None
                model(torch.randn(32, 3, 64, 64, generator=torch.Generator().manual_seed(2)))
            model.eval()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(4, 3, 64, 64, generator=g)
        calib = torch.randn(16, 3, 64, 64, generator=g)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(out, name + '.onnx')
        torch.onnx.export(model, x[:1], path, opset_version=17, input_names=['x'],
                          output_names=['y'], dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
        np.save(os.path.join(out, name + '__x.npy'), x.numpy())
        np.save(os.path.join(out, name + '__y.npy'), y.numpy())
        np.save(os.path.join(out, name + '__calib.npy'), calib.numpy())
        print(path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    make_calib()
    if len(sys.argv) == 3 and sys.argv[1] == '--torchvision':
        make_torchvision(sys.argv[2])
