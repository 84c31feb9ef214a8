#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Exports a small zoo of real PyTorch models to ONNX (torch.onnx.export, opset 17) with their
inputs and PyTorch's outputs, the data that tests/onnx_zoo/zoo_runner.cpp checks pare's graph
runtime against. Nothing is stored in the repository: the models are made again at test time.

  /usr/bin/python3 tests/data/onnx/make_model_zoo.py OUT

Writes, for each model NAME:
  OUT/NAME.onnx             the exported model (batch axis dynamic; the text models' sequence
                            axis too, as exported language models have it)
  OUT/CASE__<input>.npy     each input, named as the graph input
  OUT/CASE__<output>.npy    each output PyTorch computed, named as the graph output
for two cases: CASE = NAME, the inputs the model was exported with, and CASE = NAME.1, inputs of
another batch size (and sequence length); and OUT/manifest.txt, one line per case:
"CASE model=NAME.onnx in=<input>,... out=<output>,...".

Weights are PyTorch's random initialisation under a fixed seed (BatchNorm running statistics are
randomised too, so that folding them is exercised, and classifiers torchvision initialises near
zero are scaled to logits of magnitude 5); inputs are small so that the sanitizer build
runs every model in seconds.
"""
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

OPSET = 17


def randomize_batch_norms(model):
    # Freshly built BatchNorm layers hold mean 0 and variance 1, which makes them near identities
    # in eval mode; real checkpoints do not.
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


class DetectionHead(nn.Module):
    """A small conv backbone (strides 2, 4, 8, 16), an FPN-like top-down path (ConvTranspose2d,
    nearest and bilinear upsampling), Concat and a conv head with class and box outputs."""

    def __init__(self, classes=5, anchors=3):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.c1 = block(3, 16)
        self.c2 = block(16, 24)
        self.c3 = block(24, 32)
        self.c4 = block(32, 48)
        self.lat2 = nn.Conv2d(24, 32, 1)
        self.lat3 = nn.Conv2d(32, 32, 1)
        self.lat4 = nn.Conv2d(48, 32, 1)
        self.up4 = nn.ConvTranspose2d(32, 32, 2, stride=2)
        self.smooth = nn.Conv2d(32 * 3, 64, 3, padding=1)
        self.cls = nn.Conv2d(64, anchors * classes, 3, padding=1)
        self.box = nn.Conv2d(64, anchors * 4, 3, padding=1)

    def forward(self, x):
        c1 = self.c1(x)   # /2
        c2 = self.c2(c1)  # /4
        c3 = self.c3(c2)  # /8
        c4 = self.c4(c3)  # /16
        p4 = self.lat4(c4)
        p3 = self.lat3(c3) + self.up4(p4)
        p2 = self.lat2(c2) + F.interpolate(p3, scale_factor=2, mode='nearest')
        # Every level brought to the finest resolution and concatenated.
        u3 = F.interpolate(p3, scale_factor=2, mode='bilinear', align_corners=False)
        u4 = F.interpolate(p4, scale_factor=4, mode='bilinear', align_corners=False)
        f = F.relu(self.smooth(torch.cat([p2, u3, u4], dim=1)))
        return self.cls(f), torch.sigmoid(self.box(f))


class BertLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ff)
        self.fc2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x, bias):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.reshape(b, t, h, d // h).transpose(1, 2)
        k = k.reshape(b, t, h, d // h).transpose(1, 2)
        v = v.reshape(b, t, h, d // h).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / ((d // h) ** 0.5) + bias
        a = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.proj(a))  # post-norm
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Bert(nn.Module):
    def __init__(self, vocab=100, d=32, heads=4, ff=64, layers=2, max_len=32):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.ln = nn.LayerNorm(d)
        self.layers = nn.ModuleList(BertLayer(d, heads, ff) for _ in range(layers))
        self.pool = nn.Linear(d, d)

    def forward(self, ids, mask):
        t = ids.shape[1]
        pos = torch.arange(t, device=ids.device).unsqueeze(0)
        x = self.ln(self.tok(ids) + self.pos(pos))
        # 0/1 mask (1 = attend) to an additive bias over the key axis: [b, 1, 1, t].
        bias = (1.0 - mask.to(x.dtype))[:, None, None, :] * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        return x, torch.tanh(self.pool(x[:, 0]))


class GptBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        y = self.ln1(x)  # pre-norm
        q = self.q(y).view(b, t, h, d // h).permute(0, 2, 1, 3)
        k = self.k(y).view(b, t, h, d // h).permute(0, 2, 3, 1)
        v = self.v(y).view(b, t, h, d // h).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k) * (1.0 / (d // h) ** 0.5)
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)
        scores = scores.masked_fill(causal, float('-inf'))
        a = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(b, t, d)
        x = x + self.proj(a)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Gpt(nn.Module):
    def __init__(self, vocab=96, d=32, heads=4, layers=2, max_len=32):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(max_len, d) * 0.02)
        self.blocks = nn.ModuleList(GptBlock(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.tok(ids) + self.pos[:t]
        for blk in self.blocks:
            x = blk(x)
        return F.linear(self.ln(x), self.tok.weight)  # LM head tied to the token embedding


def rescale(model, layer, inputs, target):
    """Scales `layer`'s weight and bias so that its largest output magnitude on `inputs` is
    `target`. Classifiers initialised with tiny weights (torchvision's std 0.01) give logits
    near 1e-3, against which an absolute tolerance proves little; scaling the last layer
    scales the errors before it alike, so the comparison stays as strict relatively."""
    seen = []
    hook = layer.register_forward_hook(lambda m, i, o: seen.append(float(o.abs().max())))
    model.eval()
    with torch.no_grad():
        model(*inputs.values())
    hook.remove()
    with torch.no_grad():
        layer.weight.mul_(target / seen[0])
        if layer.bias is not None:
            layer.bias.mul_(target / seen[0])


def vision_input(seed, batch, size):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, size, size, generator=g)


def text_input(seed, batch, seq, vocab, masked=False):
    g = torch.Generator().manual_seed(seed)
    ids = {'ids': torch.randint(0, vocab, (batch, seq), generator=g)}
    if masked:
        mask = torch.ones(batch, seq, dtype=torch.int64)
        mask[-1, seq * 2 // 3:] = 0  # the last sequence is padded
        ids['mask'] = mask
    return ids


def make_models():
    """[(name, module in eval mode, [{input: tensor}, ...], [output names], {input: axes})]

    The first input set is the one exported with; the second has another batch size (and the
    text models another sequence length), so a shape baked into the graph shows."""
    batch = {0: 'batch'}
    text = {0: 'batch', 1: 'seq'}
    zoo = []

    def add(name, seed, build, data, outputs, axes, rescaled=()):
        torch.manual_seed(seed)
        model = build()
        randomize_batch_norms(model)
        model.eval()
        for layer, target in rescaled:
            rescale(model, layer(model), data[0], target)
        zoo.append((name, model, data, outputs, axes))

    def images(seed, size):
        return [{'x': vision_input(seed, 2, size)}, {'x': vision_input(seed + 100, 1, size)}]

    tv = torchvision.models
    add('resnet18', 1, tv.resnet18, images(11, 64), ['logits'], {'x': batch})
    add('mobilenet_v3_small', 2, tv.mobilenet_v3_small, images(12, 64), ['logits'], {'x': batch},
        [(lambda m: m.classifier[-1], 5.0)])
    add('efficientnet_b0', 3, tv.efficientnet_b0, images(13, 64), ['logits'], {'x': batch},
        [(lambda m: m.classifier[-1], 5.0)])

    def vit():
        m = tv.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                 hidden_dim=64, mlp_dim=128, num_classes=10)
        # torchvision zero-initialises the classifier, which would make the logits constant.
        nn.init.normal_(m.heads.head.weight, std=0.1)
        nn.init.normal_(m.heads.head.bias, std=0.1)
        return m

    add('vit', 4, vit, images(14, 32), ['logits'], {'x': batch})
    add('detection_head', 5, DetectionHead, images(15, 64), ['cls', 'box'], {'x': batch},
        [(lambda m: m.cls, 5.0), (lambda m: m.box, 3.0)])
    add('bert', 6, Bert, [text_input(16, 2, 16, 100, True), text_input(116, 3, 9, 100, True)],
        ['hidden', 'pooled'], {'ids': text, 'mask': text})
    add('gpt', 7, Gpt, [text_input(17, 2, 16, 96), text_input(117, 3, 9, 96)], ['logits'],
        {'ids': text})
    return zoo


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make_model_zoo.py OUT')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # same summation order on every machine
    manifest = []
    for name, model, data, outputs, dyn in make_models():
        axes = dict(dyn)
        for o in outputs:
            axes[o] = {0: 'batch'}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(model, tuple(data[0].values()), os.path.join(out, name + '.onnx'),
                              opset_version=OPSET, input_names=list(data[0]),
                              output_names=outputs, dynamic_axes=axes)
        for k, inputs in enumerate(data):
            case = name if k == 0 else f'{name}.{k}'
            with torch.no_grad():
                got = model(*inputs.values())
            got = got if isinstance(got, tuple) else (got,)
            for n, v in inputs.items():
                np.save(os.path.join(out, f'{case}__{n}.npy'), v.numpy())
            for n, v in zip(outputs, got):
                np.save(os.path.join(out, f'{case}__{n}.npy'), v.numpy().astype(np.float32))
            manifest.append(
                f"{case} model={name}.onnx in={','.join(inputs)} out={','.join(outputs)}")
    with open(os.path.join(out, 'manifest.txt'), 'w') as f:
        f.write('\n'.join(manifest) + '\n')


if __name__ == '__main__':
    main()
