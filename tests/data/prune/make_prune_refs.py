# SPDX-License-Identifier: Apache-2.0
# Reference masks and weights for tests/prune, from torch.nn.utils.prune (torch 1.13) and from a
# line-by-line torch port of the SparseGPT reference code (Frantar & Alistarh 2023,
# github.com/IST-DASLab/sparsegpt, sparsegpt.py::fasterprune) and of Wanda's score (Sun et al.).
#
#   /usr/bin/python3 tests/data/prune/make_prune_refs.py    (writes prune_refs.txt beside itself)
#
# Format, one tensor a line: "name ndim d0 d1 ... v0 v1 ..." (row-major), as tests/data/nn.
import os

import torch
from torch.nn.utils import prune

torch.manual_seed(1234)
lines = []


def put(name, t):
    t = t.detach().to(torch.float64).contiguous()
    vals = " ".join(repr(float(v)) for v in t.flatten().tolist())
    lines.append(f"{name} {t.dim()} {' '.join(str(d) for d in t.shape)} {vals}")


def layer(out_f, in_f):
    m = torch.nn.Linear(in_f, out_f, bias=False)
    with torch.no_grad():
        m.weight.copy_(torch.randn(out_f, in_f))  # continuous values: no ties
    return m


# l1_unstructured: prunes round(amount * n) entries of smallest |w| (Python round: half to even).
w = torch.randn(12, 17)
put("l1.w", w)
for amount in (0.3, 0.5, 0.9):
    m = layer(12, 17)
    with torch.no_grad():
        m.weight.copy_(w)
    prune.l1_unstructured(m, "weight", amount=amount)
    put(f"l1.mask.{amount}", m.weight_mask)

# random_unstructured: prunes the k entries whose torch.rand_like score is *largest*. We save the
# scores torch drew (same seed before both draws) so the test can rebuild the mask from them.
w = torch.randn(10, 13)
put("random.w", w)
torch.manual_seed(99)
prob = torch.rand_like(w)
m = layer(10, 13)
with torch.no_grad():
    m.weight.copy_(w)
torch.manual_seed(99)
prune.random_unstructured(m, "weight", amount=0.4)
put("random.prob", prob)
put("random.mask", m.weight_mask)

# ln_structured: keeps the channels along `dim` with the largest L_n norm.
w = torch.randn(9, 14)
put("ln.w", w)
for n in (1, 2):
    for dim in (0, 1):
        m = layer(9, 14)
        with torch.no_grad():
            m.weight.copy_(w)
        prune.ln_structured(m, "weight", amount=0.4, n=n, dim=dim)
        put(f"ln.mask.n{n}.dim{dim}", m.weight_mask)

# global_unstructured over three layers of different shapes and scales.
mods = [layer(8, 11), layer(6, 8), layer(5, 6)]
with torch.no_grad():
    mods[0].weight.mul_(0.5)
    mods[2].weight.mul_(2.0)
for i, mm in enumerate(mods):
    put(f"global.w{i}", mm.weight)
prune.global_unstructured([(mm, "weight") for mm in mods],
                          pruning_method=prune.L1Unstructured, amount=0.6)
for i, mm in enumerate(mods):
    put(f"global.mask{i}", mm.weight_mask)

# Zhu & Gupta polynomial schedule: s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3.
s_i, s_f, t0, n, dt = 0.1, 0.85, 100, 8, 50
steps = torch.arange(0, 700, 25, dtype=torch.float64)
ts = []
for t in steps.tolist():
    if t < t0:  # nothing pruned before the first pruning step
        ts.append(0.0)
        continue
    tq = t0 + ((min(t, t0 + n * dt) - t0) // dt) * dt  # changes only at pruning steps
    ts.append(s_f + (s_i - s_f) * (1 - (tq - t0) / (n * dt)) ** 3)
put("poly.steps", steps)
put("poly.sparsity", torch.tensor(ts, dtype=torch.float64))

# SparseGPT (fasterprune) in float64 on a layer with correlated inputs.
torch.manual_seed(7)
rows, cols, nsamples = 16, 24, 128
mix = torch.randn(cols, cols, dtype=torch.float64) / cols**0.5
# float32 values held in float64, so pare (which takes float weights and inputs) sees the same.
x = (torch.randn(nsamples, cols, dtype=torch.float64)
     @ (torch.eye(cols, dtype=torch.float64) + 2 * mix)).float().double()
w = torch.randn(rows, cols).double()
put("sgpt.x", x)
put("sgpt.w", w)


def fasterprune(W, X, sparsity, prunen=0, prunem=0, blocksize=8, percdamp=0.01):
    W = W.clone()
    H = 2 * X.t() @ X / X.shape[0]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    damp = percdamp * torch.mean(torch.diag(H))
    H += damp * torch.eye(cols, dtype=torch.float64)
    H = torch.linalg.cholesky(H)
    H = torch.cholesky_inverse(H)
    H = torch.linalg.cholesky(H, upper=True)
    Hinv = H
    mask = None
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        if prunen == 0:
            tmp = W1**2 / (torch.diag(Hinv1).reshape((1, -1))) ** 2
            # The original writes `tmp <= thresh`, pruning one weight more than int(numel *
            # sparsity) per block; pare prunes exactly that count, so the port does too.
            thresh = torch.sort(tmp.flatten())[0][int(tmp.numel() * sparsity)]
            mask1 = tmp < thresh
        else:
            mask1 = torch.zeros_like(W1) == 1
        for i in range(count):
            wcol = W1[:, i]
            d = Hinv1[i, i]
            if prunen != 0 and i % prunem == 0:
                tmp = W1[:, i:(i + prunem)]**2 / (torch.diag(Hinv1)[i:(i + prunem)].reshape((1, -1))) ** 2
                mask1.scatter_(1, i + torch.topk(tmp, prunen, dim=1, largest=False)[1], True)
            q = wcol.clone()
            q[mask1[:, i]] = 0
            Q1[:, i] = q
            err1 = (wcol - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    return W


put("sgpt.unstructured50", fasterprune(w, x, 0.5))
put("sgpt.nm24", fasterprune(w, x, 0.0, prunen=2, prunem=4))

# Wanda: score |W_ij| * ||X_j||_2, the smallest half of each output row pruned.
metric = w.abs() * torch.sqrt((x**2).sum(0)).reshape(1, -1)
k = int(cols * 0.5)
idx = torch.sort(metric, dim=-1, stable=True)[1][:, :k]
wmask = torch.ones_like(w)
wmask.scatter_(1, idx, 0.0)
put("wanda.mask50", wmask)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "prune_refs.txt"), "w") as f:
    f.write("# generated by make_prune_refs.py (torch " + torch.__version__ + ")\n")
    f.write("\n".join(lines) + "\n")
