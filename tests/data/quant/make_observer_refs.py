#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference values for pare's histogram observers, computed by PyTorch 1.13's HistogramObserver
and by a numpy transcription of MXNet's KL-divergence calibration (TensorRT's algorithm).

Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/data/quant/make_observer_refs.py
Writes histogram.txt and entropy.txt next to this script. Data are integers k standing for
k / 4096 (exact in float32), which keeps the files small.

torch 1.13 passes int(min) and int(max) to torch.histc, truncating the histogram's range; pare
bins over the float range. The cases with "stock" use torch's class as shipped on data whose range
ends stay integers (where truncation changes nothing); the "fixed" case uses a subclass whose
forward differs only by not truncating.
"""
import math
import os

import numpy as np
import torch
from torch.ao.quantization.observer import HistogramObserver

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(4321)
LATTICE = 4096.0


def lattice(t):
    return torch.round(t * LATTICE)


def ints(t):
    return " ".join(str(int(v)) for v in t.flatten().tolist())


def fmt(t):
    return " ".join("%.9g" % v for v in t.flatten().tolist())


class FixedHistogramObserver(HistogramObserver):
    """HistogramObserver.forward of torch 1.13 without int() around histc's bounds."""

    def forward(self, x_orig):
        x = x_orig.detach()
        min_val, max_val = self.min_val, self.max_val
        same_values = min_val.item() == max_val.item()
        is_uninitialized = min_val == float("inf") and max_val == float("-inf")
        if is_uninitialized or same_values:
            min_val, max_val = torch.aminmax(x)
            self.min_val.resize_(min_val.shape).copy_(min_val)
            self.max_val.resize_(max_val.shape).copy_(max_val)
            torch.histc(x, self.bins, min=float(min_val), max=float(max_val), out=self.histogram)
        else:
            new_min, new_max = torch.aminmax(x)
            combined_min = torch.min(new_min, min_val)
            combined_max = torch.max(new_max, max_val)
            combined_min, combined_max, downsample_rate, start_idx = self._adjust_min_max(
                combined_min, combined_max, self.upsample_rate)
            combined_histogram = torch.histc(x, self.bins, min=float(combined_min),
                                             max=float(combined_max))
            if combined_min == min_val and combined_max == max_val:
                combined_histogram += self.histogram
            else:
                combined_histogram = self._combine_histograms(
                    combined_histogram, self.histogram, self.upsample_rate, downsample_rate,
                    start_idx, self.bins)
            self.histogram.detach_().resize_(combined_histogram.shape).copy_(combined_histogram)
            self.min_val.detach_().resize_(combined_min.shape).copy_(combined_min)
            self.max_val.detach_().resize_(combined_max.shape).copy_(combined_max)
        return x_orig


def laplace(n, b=1.0):
    u = torch.rand(n, dtype=torch.float64) - 0.5
    return (-b * torch.sign(u) * torch.log1p(-2 * u.abs())).float()


def plant(t, lo, hi):
    t = t.clamp(lo, hi)
    t[0] = lo
    t[-1] = hi
    return t


cases = []
# (tag, observer class, dst_nbins, [batches as lattice integers])
g = plant(lattice(torch.randn(2048)), -4 * LATTICE, 4 * LATTICE)
cases.append(("gaussian", HistogramObserver, 256, [g]))
lap = lattice(laplace(2048))
lap[100] = -20 * LATTICE
lap[1000] = 30 * LATTICE
lap = plant(lap, -20 * LATTICE, 30 * LATTICE)
cases.append(("laplace_outliers", HistogramObserver, 256, [lap]))
lap4 = lattice(laplace(4096))
lap4[100] = -20 * LATTICE
lap4[3000] = 30 * LATTICE
lap4 = plant(lap4, -20 * LATTICE, 30 * LATTICE)
cases.append(("laplace_outliers_4bit", HistogramObserver, 16, [lap4]))
relu = plant(lattice(torch.relu(torch.randn(2048) * 1.5)), 0, 6 * LATTICE)
cases.append(("relu", HistogramObserver, 256, [relu]))
growing = [plant(lattice(torch.randn(1024) * s), -lo * LATTICE, hi * LATTICE)
           for s, lo, hi in [(0.5, 2, 2), (1.0, 4, 4), (1.5, 4, 8), (1.0, 3, 5)]]
cases.append(("growing", HistogramObserver, 256, growing))
fixed = [lattice(torch.randn(1024) * s + m) for s, m in [(0.7, 0.3), (1.3, -0.2), (2.1, 0.5)]]
cases.append(("growing_fixed", FixedHistogramObserver, 256, fixed))

lines = []
for tag, cls, dst, batches in cases:
    obs = cls(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    obs.dst_nbins = dst  # 256 is PyTorch's own; 16 stands for a 4-bit grid
    for b in batches:
        lines.append("batch %s %s" % (tag, ints(b)))
        obs(b / LATTICE)
    new_min, new_max = obs._non_linear_param_search()
    lines.append("hist_range %s %.9g %.9g" % (tag, float(obs.min_val), float(obs.max_val)))
    lines.append("hist %s %s" % (tag, fmt(obs.histogram)))
    lines.append("search %s %d %.9g %.9g" % (tag, dst, float(new_min), float(new_max)))
with open(os.path.join(HERE, "histogram.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")


# MXNet's _get_optimal_threshold (contrib/quantization.py), one candidate at a time, on a
# histogram of |x| starting at 0.
def smooth(p, eps=0.0001):
    is_zeros = (p == 0).astype(np.float64)
    is_nonzeros = (p != 0).astype(np.float64)
    n_zeros = is_zeros.sum()
    n_nonzeros = p.size - n_zeros
    eps1 = eps * n_zeros / n_nonzeros
    return p.astype(np.float64) + eps * is_zeros + (-eps1) * is_nonzeros


def clip_divergence(hist, i, levels):
    sliced = hist[:i]
    p = sliced.copy().astype(np.float64)
    p[i - 1] += hist[i:].sum()
    is_nonzeros = (p != 0).astype(np.int64)
    merged = len(sliced) // levels
    quantized = np.zeros(levels)
    for j in range(levels):
        quantized[j] = sliced[j * merged:(j + 1) * merged].sum()
    quantized[-1] += sliced[levels * merged:].sum()
    q = np.zeros(len(sliced), dtype=np.float64)
    for j in range(levels):
        start = j * merged
        stop = len(is_nonzeros) if j == levels - 1 else start + merged
        norm = is_nonzeros[start:stop].sum()
        if norm != 0:
            q[start:stop] = quantized[j] / norm
    q[p == 0] = 0
    p, q = smooth(p), smooth(q)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(np.where(p > 0, p * np.log(p / q), 0.0)))


rng = np.random.default_rng(7)
lines = []
small = np.floor(rng.exponential(20.0, 64)).astype(np.float64)
small[[5, 9, 30, 31, 40]] = 0
lines.append("kl_hist " + " ".join("%d" % v for v in small))
for i, levels in [(8, 8), (20, 8), (37, 8), (64, 8), (64, 16), (33, 4)]:
    lines.append("kl %d %d %.17g" % (i, levels, clip_divergence(small, i, levels)))
with open(os.path.join(HERE, "entropy.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote histogram.txt, entropy.txt")
