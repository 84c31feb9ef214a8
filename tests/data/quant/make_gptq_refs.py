# SPDX-License-Identifier: Apache-2.0
"""Reference values for tests/quant/gptq_test.cpp.

A port of the reference GPTQ (IST-DASLab/gptq, gptq.py `GPTQ.add_batch` / `fasterquant` and
quant.py `Quantizer.find_params` / `quantize`, including `static_groups`) in PyTorch, run in
float64 on a small layer (W 32x64, calibration X 256x64 with correlated columns, fed in batches
of 64). Writes gptq.txt: one record a line,

    x <values of X, row-major>
    w <values of W, row-major>
    case <name> <bits> <sym> <groupsize> <blocksize> <actorder> <percdamp> <loss> <Q row-major>

Run: /usr/bin/python3 tests/data/quant/make_gptq_refs.py
"""
import math
import os

import torch

torch.manual_seed(0)
DT = torch.float64


def find_params(x, bits, sym):
    """quant.py Quantizer.find_params(x, weight=True), per row."""
    maxq = 2**bits - 1
    xmin = torch.minimum(x.min(1).values, torch.zeros(x.shape[0], dtype=DT))
    xmax = torch.maximum(x.max(1).values, torch.zeros(x.shape[0], dtype=DT))
    if sym:
        xmax = torch.maximum(torch.abs(xmin), xmax)
        xmin = torch.where(xmin < 0, -xmax, xmin)
    both_zero = (xmin == 0) & (xmax == 0)
    xmin[both_zero] = -1
    xmax[both_zero] = 1
    scale = (xmax - xmin) / maxq
    if sym:
        zero = torch.full_like(scale, (maxq + 1) / 2)
    else:
        zero = torch.round(-xmin / scale)
    return scale.unsqueeze(1), zero.unsqueeze(1), maxq


def quantize(x, scale, zero, maxq):
    q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
    return scale * (q - zero)


class Gptq:
    def __init__(self, columns):
        self.columns = columns
        self.H = torch.zeros(columns, columns, dtype=DT)
        self.nsamples = 0

    def add_batch(self, inp):
        tmp = inp.shape[0]
        inp = inp.t()
        self.H *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        inp = math.sqrt(2 / self.nsamples) * inp
        self.H += inp.matmul(inp.t())

    def fasterquant(self, W, bits, sym, blocksize=128, percdamp=0.01, groupsize=-1,
                    actorder=False, static_groups=False):
        W = W.clone()
        H = self.H.clone()
        dead = torch.diag(H) == 0
        H[dead, dead] = 1
        W[:, dead] = 0
        scale, zero, maxq = find_params(W, bits, sym)
        groups = []
        if static_groups:
            for i in range(0, self.columns, groupsize):
                groups.append(find_params(W[:, i:(i + groupsize)], bits, sym))
        if actorder:
            perm = torch.argsort(torch.diag(H), descending=True, stable=True)
            W = W[:, perm]
            H = H[perm][:, perm]
            invperm = torch.argsort(perm)
        Losses = torch.zeros_like(W)
        Q = torch.zeros_like(W)
        damp = percdamp * torch.mean(torch.diag(H))
        diag = torch.arange(self.columns)
        H[diag, diag] += damp
        H = torch.linalg.cholesky(H)
        H = torch.cholesky_inverse(H)
        H = torch.linalg.cholesky(H, upper=True)
        Hinv = H
        for i1 in range(0, self.columns, blocksize):
            i2 = min(i1 + blocksize, self.columns)
            count = i2 - i1
            W1 = W[:, i1:i2].clone()
            Q1 = torch.zeros_like(W1)
            Err1 = torch.zeros_like(W1)
            Losses1 = torch.zeros_like(W1)
            Hinv1 = Hinv[i1:i2, i1:i2]
            for i in range(count):
                w = W1[:, i]
                d = Hinv1[i, i]
                if groupsize != -1:
                    if not static_groups:
                        if (i1 + i) % groupsize == 0:
                            scale, zero, maxq = find_params(W[:, (i1 + i):(i1 + i + groupsize)],
                                                            bits, sym)
                    else:
                        idx = i1 + i
                        if actorder:
                            idx = perm[idx]
                        scale, zero, maxq = groups[idx // groupsize]
                q = quantize(w.unsqueeze(1), scale, zero, maxq).flatten()
                Q1[:, i] = q
                Losses1[:, i] = (w - q) ** 2 / d**2
                err1 = (w - q) / d
                W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
                Err1[:, i] = err1
            Q[:, i1:i2] = Q1
            Losses[:, i1:i2] = Losses1 / 2
            W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
        if actorder:
            Q = Q[:, invperm]
        return Q, torch.sum(Losses).item()


def main():
    rows, cols, n = 32, 64, 256
    # Correlated inputs: a low-rank mix plus noise, with a few loud channels.
    z = torch.randn(n, 16, dtype=DT)
    mix = torch.randn(16, cols, dtype=DT)
    x = z @ mix * 0.5 + torch.randn(n, cols, dtype=DT) * 0.3
    x[:, 5] *= 4.0
    x[:, 40] *= 3.0
    x[:, 13] = 0.0  # a dead input
    x = x.float().double()  # the values the C++ side reads as float
    w = (torch.randn(rows, cols, dtype=DT) * 0.1).float().double()

    g = Gptq(cols)
    for b in range(0, n, 64):
        g.add_batch(x[b:b + 64])

    cases = [
        # name, bits, sym, groupsize, blocksize, actorder, static_groups
        ("int4_sym_channel", 4, True, -1, 128, False, False),
        ("int4_sym_g16_b32", 4, True, 16, 32, False, False),
        ("uint4_asym_g32_b16", 4, False, 32, 16, False, False),
        ("int3_sym_channel_act", 3, True, -1, 128, True, False),
        ("int4_sym_g16_act", 4, True, 16, 128, True, True),
        ("int8_sym_channel", 8, True, -1, 128, False, False),
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "gptq.txt"), "w") as f:
        f.write("x " + " ".join(f"{v:.9g}" for v in x.flatten().tolist()) + "\n")
        f.write("w " + " ".join(f"{v:.9g}" for v in w.flatten().tolist()) + "\n")
        for name, bits, sym, gs, bs, act, static in cases:
            q, loss = g.fasterquant(w, bits, sym, blocksize=bs, groupsize=gs, actorder=act,
                                    static_groups=static)
            f.write(f"case {name} {bits} {int(sym)} {gs} {bs} {int(act)} 0.01 {loss:.12g} " +
                    " ".join(f"{v:.9g}" for v in q.flatten().tolist()) + "\n")
            # RTN with the same quantizer, for the "GPTQ beats RTN" check of the script itself.
            if gs == -1:
                s, zz, mq = find_params(w, bits, sym)
                rtn = quantize(w, s, zz, mq)
            else:
                rtn = torch.cat([quantize(w[:, i:i + gs], *find_params(w[:, i:i + gs], bits, sym))
                                 for i in range(0, cols, gs)], dim=1)
            e_g = torch.sum((x @ w.t() - x @ q.t()) ** 2).item()
            e_r = torch.sum((x @ w.t() - x @ rtn.t()) ** 2).item()
            print(f"{name}: loss {loss:.6g} output error gptq {e_g:.6g} rtn {e_r:.6g}")


if __name__ == "__main__":
    main()
