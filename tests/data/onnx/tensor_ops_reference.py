#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints the reference arrays that tests/onnx/tensor_ops_test.cpp holds: GroupNormalization
(ONNX opset 18: scale and bias per group) computed by torch.nn.functional.group_norm with the
per-group affine repeated per channel, and Einsum equations computed by numpy.einsum.

  /usr/bin/python3 tests/data/onnx/tensor_ops_reference.py
"""
import numpy as np
import torch


def cpp(name, a):
    def lit(v):
        t = f'{float(v):.9g}'
        return t + ('f' if any(c in t for c in '.e') else '.0f')
    flat = ', '.join(lit(v) for v in np.asarray(a, dtype=np.float32).ravel())
    print(f'const std::vector<float> {name} = {{{flat}}};')


rng = np.random.default_rng(7)
x = rng.standard_normal((2, 6, 3, 2)).astype(np.float32)
scale = np.array([0.5, -1.25, 2.0], dtype=np.float32)  # one per group (3 groups of 2 channels)
bias = np.array([0.1, 0.0, -0.3], dtype=np.float32)
y = torch.nn.functional.group_norm(torch.from_numpy(x), 3,
                                   torch.from_numpy(np.repeat(scale, 2)),
                                   torch.from_numpy(np.repeat(bias, 2)), eps=1e-5).numpy()
cpp('gn_x', x)
cpp('gn_y', y)
y2 = torch.nn.functional.group_norm(torch.from_numpy(x), 2, eps=1e-3).numpy()
cpp('gn_y_2groups_eps', y2)

q = rng.integers(-3, 4, (1, 2, 3, 4)).astype(np.float32)
k = rng.integers(-3, 4, (1, 2, 2, 4)).astype(np.float32)
cpp('es_q', q)
cpp('es_k', k)
cpp('es_qk', np.einsum('bhqd,bhkd->bhqk', q, k))
a = rng.integers(-3, 4, (3, 4)).astype(np.float32)
b = rng.integers(-3, 4, (2, 4, 2)).astype(np.float32)
cpp('es_a', a)
cpp('es_b', b)
cpp('es_ab_broadcast', np.einsum('...ij,...jk->...ik', a, b))
cpp('es_ab_implicit', np.einsum('ij,bjk', a, b))
cpp('es_at', np.einsum('ij->ji', a))
sq = rng.integers(-3, 4, (3, 3)).astype(np.float32)
cpp('es_sq', sq)
cpp('es_diag', np.einsum('ii->i', sq))
cpp('es_trace', np.einsum('ii', sq))
