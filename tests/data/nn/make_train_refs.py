#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference values for the training layers' tests (tests/nn/{conv2d,pool,batch_norm,layer_norm,
adamw,lr_schedule}_test.cpp), computed with PyTorch.

    /usr/bin/python3 tests/data/nn/make_train_refs.py     # writes train_refs.txt beside itself

Each tensor is a line "name ndim d0 d1 ... v0 v1 ..." (float32, 9 significant digits), the format
tests/nn/test_util.hpp reads. Batches are flattened [N, C*H*W] as pare::nn keeps them. Inputs
are on a 1/64 grid so they parse exactly.
"""
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)
lines = []


def put(name, t):
    t = torch.as_tensor(t).detach().contiguous().to(torch.float32)
    dims = " ".join(str(d) for d in t.shape)
    vals = " ".join("%.9g" % v for v in t.flatten().tolist())
    lines.append(f"{name} {t.dim()} {dims} {vals}")


def fixed(shape, scale=1.0):
    return (torch.randint(-64, 65, shape).float() / 64.0) * scale


# --- Conv2d layer: batch of 2, 2 -> 3 channels, 5x5, kernel 3, stride 2, padding 1 ----------
conv = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1)
with torch.no_grad():
    conv.weight.copy_(fixed(conv.weight.shape, 0.5))
    conv.bias.copy_(fixed(conv.bias.shape, 0.5))
x = fixed((2, 2, 5, 5), 2.0).requires_grad_()
y = conv(x)
gy = fixed(y.shape)
y.backward(gy)
put("conv.w", conv.weight)
put("conv.b", conv.bias)
put("conv.x", x.reshape(2, -1))
put("conv.y", y.reshape(2, -1))
put("conv.gy", gy.reshape(2, -1))
put("conv.gx", x.grad.reshape(2, -1))
put("conv.gw", conv.weight.grad)
put("conv.gb", conv.bias.grad)

# --- a small CNN end to end: conv(1->2, 3x3, pad 1) on 4x4, ReLU, maxpool 2, Linear(8 -> 3) --
c1 = torch.nn.Conv2d(1, 2, 3, padding=1)
fc = torch.nn.Linear(8, 3)
with torch.no_grad():
    for p in list(c1.parameters()) + list(fc.parameters()):
        p.copy_(fixed(p.shape, 0.5))
x = fixed((3, 1, 4, 4), 2.0).requires_grad_()
labels = torch.tensor([2, 0, 1])
h = F.max_pool2d(F.relu(c1(x)), 2)
logits = fc(h.reshape(3, -1))
loss = F.cross_entropy(logits, labels)
loss.backward()
put("cnn.c1w", c1.weight)
put("cnn.c1b", c1.bias)
put("cnn.fcw", fc.weight)
put("cnn.fcb", fc.bias)
put("cnn.x", x.reshape(3, -1))
put("cnn.labels", labels.float())
put("cnn.logits", logits)
put("cnn.loss", loss.reshape(1))
put("cnn.gx", x.grad.reshape(3, -1))
put("cnn.gc1w", c1.weight.grad)
put("cnn.gc1b", c1.bias.grad)
put("cnn.gfcw", fc.weight.grad)
put("cnn.gfcb", fc.bias.grad)

# --- pooling layers on a batch (flattening order) --------------------------------------------
x = fixed((2, 3, 5, 4), 2.0).requires_grad_()
y = F.avg_pool2d(x, (3, 2), (2, 2), (1, 1), ceil_mode=True, count_include_pad=False)
gy = fixed(y.shape)
y.backward(gy)
put("avgpool.x", x.reshape(2, -1))
put("avgpool.y", y.reshape(2, -1))
put("avgpool.gy", gy.reshape(2, -1))
put("avgpool.gx", x.grad.reshape(2, -1))

# --- BatchNorm2d: training step (batch stats, running stats), then eval ------------------------
bn = torch.nn.BatchNorm2d(3, momentum=0.1)
with torch.no_grad():
    bn.weight.copy_(fixed((3,), 1.0) + 1.0)
    bn.bias.copy_(fixed((3,), 0.5))
x = (fixed((4, 3, 2, 3), 2.0) + 0.5).requires_grad_()
y = bn(x)
gy = fixed(y.shape)
y.backward(gy)
put("bn2d.gamma", bn.weight)
put("bn2d.beta", bn.bias)
put("bn2d.x", x.reshape(4, -1))
put("bn2d.y", y.reshape(4, -1))
put("bn2d.gy", gy.reshape(4, -1))
put("bn2d.gx", x.grad.reshape(4, -1))
put("bn2d.ggamma", bn.weight.grad)
put("bn2d.gbeta", bn.bias.grad)
put("bn2d.running_mean", bn.running_mean)
put("bn2d.running_var", bn.running_var)
bn.eval()
x2 = fixed((2, 3, 2, 3), 2.0)
put("bn2d.eval_x", x2.reshape(2, -1))
put("bn2d.eval_y", bn(x2).reshape(2, -1))

bn1 = torch.nn.BatchNorm1d(4)
with torch.no_grad():
    bn1.weight.copy_(fixed((4,), 1.0) + 1.0)
    bn1.bias.copy_(fixed((4,), 0.5))
x = fixed((5, 4), 2.0).requires_grad_()
y = bn1(x)
gy = fixed(y.shape)
y.backward(gy)
put("bn1d.gamma", bn1.weight)
put("bn1d.beta", bn1.bias)
put("bn1d.x", x)
put("bn1d.y", y)
put("bn1d.gy", gy)
put("bn1d.gx", x.grad)
put("bn1d.ggamma", bn1.weight.grad)
put("bn1d.gbeta", bn1.bias.grad)
put("bn1d.running_mean", bn1.running_mean)
put("bn1d.running_var", bn1.running_var)

# --- LayerNorm(6) over rows of 12 = 2 blocks ---------------------------------------------------
ln = torch.nn.LayerNorm(6)
with torch.no_grad():
    ln.weight.copy_(fixed((6,), 1.0) + 1.0)
    ln.bias.copy_(fixed((6,), 0.5))
x = fixed((3, 2, 6), 2.0).requires_grad_()
y = ln(x)
gy = fixed(y.shape)
y.backward(gy)
put("ln.gamma", ln.weight)
put("ln.beta", ln.bias)
put("ln.x", x.reshape(3, -1))
put("ln.y", y.reshape(3, -1))
put("ln.gy", gy.reshape(3, -1))
put("ln.gx", x.grad.reshape(3, -1))
put("ln.ggamma", ln.weight.grad)
put("ln.gbeta", ln.bias.grad)

# --- AdamW: three steps with fixed gradients ---------------------------------------------------
p = torch.nn.Parameter(fixed((4, 3), 1.0))
put("adamw.p0", p)
opt = torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
for k in range(3):
    g = fixed((4, 3), 0.5)
    put(f"adamw.g{k}", g)
    p.grad = g.clone()
    opt.step()
put("adamw.p3", p)

# --- learning-rate schedules (the lr used at steps 0..n-1) -------------------------------------


def lrs(make, n):
    q = torch.nn.Parameter(torch.zeros(1))
    o = torch.optim.SGD([q], lr=0.1)
    s = make(o)
    out = []
    for _ in range(n):
        out.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return torch.tensor(out, dtype=torch.float64)


sched = torch.optim.lr_scheduler
put("lr.step", lrs(lambda o: sched.StepLR(o, step_size=3, gamma=0.5), 10))
put("lr.cosine", lrs(lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 11))
put("lr.warmup_cosine", lrs(lambda o: sched.SequentialLR(
    o, [sched.LinearLR(o, start_factor=0.1, total_iters=3), sched.CosineAnnealingLR(o, T_max=7)],
    milestones=[3]), 11))

with open(os.path.join(HERE, "train_refs.txt"), "w") as f:
    f.write("# generated by make_train_refs.py (torch %s); do not edit\n" % torch.__version__)
    f.write("\n".join(lines) + "\n")
print("wrote train_refs.txt:", len(lines), "tensors")
