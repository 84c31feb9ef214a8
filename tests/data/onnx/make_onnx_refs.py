#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the ONNX models that tests/onnx/*_test.cpp run, with reference outputs from PyTorch and
numpy (never from pare).

  cnn.onnx       a small CNN trained on examples/data/digits.csv (first 1437 rows train, last 360
                 test), exported with torch.onnx.export (opset 13, eval mode);
                 cnn.pt its state_dict (torch.save); cnn__x.npy the test images [360,1,8,8],
                 cnn__y.npy their labels, cnn__logits.npy PyTorch's logits
  cnn_bn.onnx    the same network exported without constant folding, so the BatchNormalization
                 node stays in the graph and pare folds it at load
  op_<case>.onnx one small model per op case (onnx.helper), with op_<case>__in<k>.npy inputs and
                 op_<case>__out<k>.npy reference outputs; cases.txt lists the cases
  ext.onnx + ext.weights  a model whose initializers live in an external data file
  mlp_gelu.onnx  Linear(6, 5) + GELU + Linear(5, 3) + Softmax exported by torch (GELU becomes the
                 Div/Erf/Add/Mul/Mul pattern), with mlp_gelu__x.npy / mlp_gelu__y.npy

Run from anywhere: /usr/bin/python3 tests/data/onnx/make_onnx_refs.py
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(OUT, '..', '..', '..'))


def path(name):
    return os.path.join(OUT, name)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def make_cnn():
    data = np.loadtxt(os.path.join(ROOT, 'examples', 'data', 'digits.csv'), delimiter=',',
                      dtype=np.int64)
    x = (data[:, :64].astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = data[:, 64]
    xtr, ytr = torch.from_numpy(x[:1437]), torch.from_numpy(y[:1437])
    xte, yte = x[1437:], y[1437:]
    torch.manual_seed(0)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(8):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(xte)).numpy()
    print('cnn test accuracy', (logits.argmax(1) == yte).mean())
    torch.save(model.state_dict(), path('cnn.pt'))
    np.save(path('cnn__x.npy'), xte)
    np.save(path('cnn__y.npy'), yte)
    np.save(path('cnn__logits.npy'), logits)
    dummy = torch.zeros(1, 1, 8, 8)
    axes = {'x': {0: 'batch'}, 'logits': {0: 'batch'}}
    torch.onnx.export(model, dummy, path('cnn.onnx'), opset_version=13, input_names=['x'],
                      output_names=['logits'], dynamic_axes=axes)
    torch.onnx.export(model, dummy, path('cnn_bn.onnx'), opset_version=13, input_names=['x'],
                      output_names=['logits'], dynamic_axes=axes, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    for f in ('cnn.onnx', 'cnn_bn.onnx'):
        m = onnx.load(path(f))
        print(f, [n.op_type for n in m.graph.node])


rng = np.random.default_rng(7)
cases = []


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save_case(name, nodes, inputs, outputs, initializers=(), opset=13, domains=()):
    """inputs: list of (name, array); outputs: list of (name, array) references."""
    def info(n, a):
        et = helper.np_dtype_to_tensor_dtype(a.dtype) if hasattr(helper, 'np_dtype_to_tensor_dtype') \
            else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
        return helper.make_tensor_value_info(n, et, list(a.shape))
    graph = helper.make_graph(nodes, name, [info(n, a) for n, a in inputs],
                              [info(n, a) for n, a in outputs],
                              initializer=[numpy_helper.from_array(a, n) for n, a in initializers])
    imports = [helper.make_opsetid('', opset)] + [helper.make_opsetid(d, 1) for d in domains]
    model = helper.make_model(graph, opset_imports=imports, producer_name='pare-make_onnx_refs')
    if not domains:
        onnx.checker.check_model(model)
    onnx.save(model, path(f'op_{name}.onnx'))
    for k, (_, a) in enumerate(inputs):
        np.save(path(f'op_{name}__in{k}.npy'), a)
    for k, (_, a) in enumerate(outputs):
        np.save(path(f'op_{name}__out{k}.npy'), a)
    cases.append(name)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def conv_case(name, x, w, b, **attrs):
    stride = attrs.get('strides', [1, 1])
    dil = attrs.get('dilations', [1, 1])
    pads = attrs.get('pads', [0, 0, 0, 0])
    group = attrs.get('group', 1)
    xp = F.pad(t(x), (pads[1], pads[3], pads[0], pads[2]))
    y = F.conv2d(xp, t(w), None if b is None else t(b), stride=stride, dilation=dil,
                 groups=group).numpy()
    inits = [('W', w)] + ([('B', b)] if b is not None else [])
    node = helper.make_node('Conv', ['X', 'W'] + (['B'] if b is not None else []), ['Y'],
                            name=name, **attrs)
    save_case(name, [node], [('X', x)], [('Y', y)], inits)


def make_ops():
    # Gemm / MatMul
    a, b, c = rand(3, 5), rand(4, 5), rand(4)
    save_case('gemm', [helper.make_node('Gemm', ['A', 'B', 'C'], ['Y'], alpha=0.5, beta=2.0,
                                        transB=1)],
              [('A', a)], [('Y', 0.5 * a @ b.T + 2.0 * c)], [('B', b), ('C', c)])
    a, b, c = rand(5, 3), rand(5, 4), rand(3, 1)
    save_case('gemm_ta', [helper.make_node('Gemm', ['A', 'B', 'C'], ['Y'], transA=1)],
              [('A', a), ('B', b), ('C', c)], [('Y', a.T @ b + c)])
    a, b = rand(2, 3, 4, 5), rand(5, 6)
    save_case('matmul', [helper.make_node('MatMul', ['A', 'B'], ['Y'])], [('A', a), ('B', b)],
              [('Y', a @ b)])
    a, b = rand(2, 1, 3, 4), rand(3, 4, 2)
    save_case('matmul_bcast', [helper.make_node('MatMul', ['A', 'B'], ['Y'])],
              [('A', a), ('B', b)], [('Y', a @ b)])
    a, b = rand(4), rand(4, 3)
    save_case('matmul_vec', [helper.make_node('MatMul', ['A', 'B'], ['Y'])], [('A', a), ('B', b)],
              [('Y', a @ b)])
    # Elementwise with numpy broadcasting
    x, y = rand(2, 3, 4), rand(3, 1)
    for op, f in (('Add', np.add), ('Mul', np.multiply), ('Sub', np.subtract),
                  ('Div', np.divide)):
        save_case(op.lower(), [helper.make_node(op, ['X', 'Y'], ['Z'])], [('X', x), ('Y', y)],
                  [('Z', f(x, y))])
    xp = np.abs(rand(2, 3)) + 0.1
    save_case('pow', [helper.make_node('Pow', ['X', 'P'], ['Z'])], [('X', xp)],
              [('Z', np.power(xp, np.float32(1.5)))], [('P', np.array(1.5, np.float32))])
    save_case('sqrt', [helper.make_node('Sqrt', ['X'], ['Z'])], [('X', xp)], [('Z', np.sqrt(xp))])
    x = rand(3, 7)
    tx = t(x)
    for op, ref in (('Relu', torch.relu(tx)), ('Sigmoid', torch.sigmoid(tx)),
                    ('Tanh', torch.tanh(tx)), ('Erf', torch.erf(tx)), ('Identity', tx)):
        save_case(op.lower(), [helper.make_node(op, ['X'], ['Y'])], [('X', x)],
                  [('Y', ref.numpy())])
    # Gelu: the Erf pattern torch exports (x * 0.5 * (1 + erf(x / sqrt 2)))
    s2, one, half = (np.array(v, np.float32) for v in (np.sqrt(2.0), 1.0, 0.5))
    nodes = [helper.make_node('Div', ['X', 's2'], ['d']), helper.make_node('Erf', ['d'], ['e']),
             helper.make_node('Add', ['e', 'one'], ['p']), helper.make_node('Mul', ['X', 'p'], ['m']),
             helper.make_node('Mul', ['m', 'half'], ['Y'])]
    save_case('gelu_pattern', nodes, [('X', x)], [('Y', F.gelu(tx).numpy())],
              [('s2', s2), ('one', one), ('half', half)])
    save_case('gelu', [helper.make_node('Gelu', ['X'], ['Y'], domain='com.microsoft')],
              [('X', x)], [('Y', F.gelu(tx).numpy())], domains=['com.microsoft'])
    # Conv
    conv_case('conv', rand(2, 3, 7, 6), rand(4, 3, 3, 3), rand(4), pads=[1, 1, 1, 1])
    conv_case('conv_stride_dil', rand(1, 2, 9, 8), rand(3, 2, 3, 2), rand(3), strides=[2, 1],
              dilations=[2, 3], pads=[1, 0, 2, 1])
    conv_case('conv_groups', rand(1, 4, 6, 5), rand(6, 2, 3, 3), None, group=2, pads=[0, 1, 1, 0])
    conv_case('conv_depthwise', rand(2, 3, 5, 5), rand(3, 1, 3, 3), rand(3), group=3,
              strides=[2, 2], pads=[1, 1, 1, 1])
    x, w = rand(1, 2, 7, 6), rand(3, 2, 3, 3)
    # SAME_UPPER with stride 2: out = ceil(in / 2), extra padding at the end
    y = F.conv2d(F.pad(t(x), (0, 1, 1, 1)), t(w), stride=2).numpy()
    save_case('conv_same_upper', [helper.make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_UPPER',
                                                   strides=[2, 2])],
              [('X', x)], [('Y', y)], [('W', w)])
    y = F.conv2d(F.pad(t(x), (1, 0, 1, 1)), t(w), stride=2).numpy()
    save_case('conv_same_lower', [helper.make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER',
                                                   strides=[2, 2])],
              [('X', x)], [('Y', y)], [('W', w)])
    y = F.conv2d(t(x), t(w), stride=2).numpy()
    save_case('conv_valid', [helper.make_node('Conv', ['X', 'W'], ['Y'], auto_pad='VALID',
                                              strides=[2, 2])],
              [('X', x)], [('Y', y)], [('W', w)])
    # BatchNormalization: after a conv (folded) and alone (evaluated)
    x, w, b = rand(2, 3, 5, 5), rand(4, 3, 3, 3), rand(4)
    sc, bi, mu, var = rand(4), rand(4), rand(4), np.abs(rand(4)) + 0.5
    conv = F.conv2d(t(x), t(w), t(b), padding=1)
    y = F.batch_norm(conv, t(mu), t(var), t(sc), t(bi), False, 0.0, 1e-3).numpy()
    save_case('conv_bn', [helper.make_node('Conv', ['X', 'W', 'B'], ['c'], pads=[1, 1, 1, 1]),
                          helper.make_node('BatchNormalization', ['c', 'sc', 'bi', 'mu', 'var'],
                                           ['Y'], epsilon=1e-3)],
              [('X', x)], [('Y', y)],
              [('W', w), ('B', b), ('sc', sc), ('bi', bi), ('mu', mu), ('var', var)])
    xb = rand(2, 4, 3, 2)
    y = F.batch_norm(t(xb), t(mu), t(var), t(sc), t(bi), False, 0.0, 1e-5).numpy()
    save_case('batchnorm', [helper.make_node('BatchNormalization', ['X', 'sc', 'bi', 'mu', 'var'],
                                             ['Y'])],
              [('X', xb)], [('Y', y)], [('sc', sc), ('bi', bi), ('mu', mu), ('var', var)])
    # conv output used twice: BN must be evaluated, not folded
    bn = F.batch_norm(conv, t(mu), t(var), t(sc), t(bi), False, 0.0, 1e-5)
    save_case('conv_bn_shared', [helper.make_node('Conv', ['X', 'W', 'B'], ['c'], pads=[1, 1, 1, 1]),
                                 helper.make_node('BatchNormalization', ['c', 'sc', 'bi', 'mu', 'var'],
                                                  ['n']),
                                 helper.make_node('Add', ['c', 'n'], ['Y'])],
              [('X', x)], [('Y', (conv + bn).numpy())],
              [('W', w), ('B', b), ('sc', sc), ('bi', bi), ('mu', mu), ('var', var)])
    # Pooling
    x = rand(2, 3, 7, 6)
    save_case('maxpool', [helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3, 2],
                                           strides=[2, 2], pads=[1, 0, 1, 1])],
              [('X', x)], [('Y', F.max_pool2d(F.pad(t(x), (0, 1, 1, 1), value=-np.inf), (3, 2),
                                               (2, 2)).numpy())])
    save_case('avgpool', [helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[2, 3],
                                           strides=[1, 2])],
              [('X', x)], [('Y', F.avg_pool2d(t(x), (2, 3), (1, 2)).numpy())])
    save_case('avgpool_pad', [helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 3],
                                               strides=[2, 2], pads=[1, 1, 1, 1])],
              [('X', x)], [('Y', F.avg_pool2d(t(x), 3, 2, 1, count_include_pad=False).numpy())])
    save_case('avgpool_pad_incl', [helper.make_node('AveragePool', ['X'], ['Y'],
                                                    kernel_shape=[3, 3], strides=[2, 2],
                                                    pads=[1, 1, 1, 1], count_include_pad=1)],
              [('X', x)], [('Y', F.avg_pool2d(t(x), 3, 2, 1, count_include_pad=True).numpy())])
    save_case('globalavgpool', [helper.make_node('GlobalAveragePool', ['X'], ['Y'])], [('X', x)],
              [('Y', x.mean(axis=(2, 3), keepdims=True))])
    # Shape ops
    save_case('flatten', [helper.make_node('Flatten', ['X'], ['Y'], axis=2)], [('X', x)],
              [('Y', x.reshape(6, 42))])
    save_case('reshape', [helper.make_node('Reshape', ['X', 's'], ['Y'])], [('X', x)],
              [('Y', x.reshape(2, 3, 42))], [('s', np.array([0, 0, -1], np.int64))])
    save_case('transpose', [helper.make_node('Transpose', ['X'], ['Y'], perm=[0, 2, 3, 1])],
              [('X', x)], [('Y', x.transpose(0, 2, 3, 1))])
    y = rand(2, 1, 7, 6)
    save_case('concat', [helper.make_node('Concat', ['X', 'Z'], ['Y'], axis=1)],
              [('X', x), ('Z', y)], [('Y', np.concatenate([x, y], 1))])
    s = rand(3, 4, 5)
    for ax in (-1, 1):
        save_case(f'softmax_{"last" if ax < 0 else ax}',
                  [helper.make_node('Softmax', ['X'], ['Y'], axis=ax)], [('X', s)],
                  [('Y', torch.softmax(t(s), ax).numpy())])
    cst = rand(2, 3)
    save_case('constant', [helper.make_node('Constant', [], ['c'],
                                            value=numpy_helper.from_array(cst)),
                           helper.make_node('Add', ['X', 'c'], ['Y'])],
              [('X', x[0, 0, :2, :3].copy())], [('Y', x[0, 0, :2, :3] + cst)])
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape (torch's dynamic flatten)
    nodes = [helper.make_node('Shape', ['X'], ['sh']),
             helper.make_node('Gather', ['sh', 'zero'], ['n'], axis=0),
             helper.make_node('Unsqueeze', ['n', 'ax0'], ['n1']),
             helper.make_node('Concat', ['n1', 'minus1'], ['s'], axis=0),
             helper.make_node('Reshape', ['X', 's'], ['Y'])]
    save_case('dynamic_flatten', nodes, [('X', x)], [('Y', x.reshape(2, -1))],
              [('zero', np.array(0, np.int64)), ('ax0', np.array([0], np.int64)),
               ('minus1', np.array([-1], np.int64))])
    # Quantization: per-tensor uint8, per-axis int8, and MatMulInteger
    x = rand(3, 4) * 3
    scale, zp = np.float32(0.05), np.uint8(128)
    q = np.clip(np.rint(x / scale) + 128, 0, 255).astype(np.uint8)
    save_case('qdq', [helper.make_node('QuantizeLinear', ['X', 's', 'z'], ['q']),
                      helper.make_node('DequantizeLinear', ['q', 's', 'z'], ['Y'])],
              [('X', x)], [('Y', (q.astype(np.float32) - 128) * scale)],
              [('s', np.array(scale)), ('z', np.array(zp))])
    save_case('quantize', [helper.make_node('QuantizeLinear', ['X', 's', 'z'], ['Y'])],
              [('X', x)], [('Y', q)], [('s', np.array(scale)), ('z', np.array(zp))])
    sa = np.array([0.1, 0.02, 0.05, 0.2], np.float32)
    za = np.array([0, 1, -2, 3], np.int8)
    qa = np.clip(np.rint(x / sa) + za, -128, 127).astype(np.int8)
    save_case('quantize_axis', [helper.make_node('QuantizeLinear', ['X', 's', 'z'], ['Y'], axis=1)],
              [('X', x)], [('Y', qa)], [('s', sa), ('z', za)])
    save_case('dequantize_axis', [helper.make_node('DequantizeLinear', ['Q', 's', 'z'], ['Y'],
                                                   axis=1)],
              [('Q', qa)], [('Y', (qa.astype(np.float32) - za) * sa)], [('s', sa), ('z', za)])
    a = rng.integers(0, 256, (3, 5)).astype(np.uint8)
    b = rng.integers(-128, 128, (5, 4)).astype(np.int8)
    za, zb = np.uint8(7), np.int8(-3)
    ref = (a.astype(np.int32) - za) @ (b.astype(np.int32) - zb)
    save_case('matmulinteger', [helper.make_node('MatMulInteger', ['A', 'B', 'za', 'zb'], ['Y'])],
              [('A', a)], [('Y', ref.astype(np.int32))],
              [('B', b), ('za', np.array(za)), ('zb', np.array(zb))])
    # A typed-field (float_data, not raw_data) initializer and a double/int32 cast path
    w = rand(4, 3)
    tw = helper.make_tensor('W', TensorProto.FLOAT, [4, 3], w.flatten().tolist())
    x = rand(2, 4)
    graph = helper.make_graph([helper.make_node('MatMul', ['X', 'W'], ['Y'])], 'typed',
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [2, 3])],
                              initializer=[tw])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    onnx.save(m, path('op_typed_fields.onnx'))
    np.save(path('op_typed_fields__in0.npy'), x)
    np.save(path('op_typed_fields__out0.npy'), x @ w)
    cases.append('typed_fields')


def make_external():
    w, b = rand(6, 5), rand(6)
    x = rand(3, 5)
    nodes = [helper.make_node('Gemm', ['X', 'W', 'B'], ['Y'], transB=1)]
    graph = helper.make_graph(nodes, 'ext',
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, [3, 5])],
                              [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [3, 6])],
                              initializer=[numpy_helper.from_array(w, 'W'),
                                           numpy_helper.from_array(b, 'B')])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    onnx.save_model(m, path('ext.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
                    location='ext.weights', size_threshold=0)
    np.save(path('ext__in0.npy'), x)
    np.save(path('ext__out0.npy'), x @ w.T + b)


def make_mlp_gelu():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.Linear(5, 3), nn.Softmax(dim=-1)).eval()
    x = torch.randn(4, 6)
    with torch.no_grad():
        y = model(x).numpy()
    torch.onnx.export(model, x, path('mlp_gelu.onnx'), opset_version=13, input_names=['x'],
                      output_names=['y'])
    np.save(path('mlp_gelu__x.npy'), x.numpy())
    np.save(path('mlp_gelu__y.npy'), y)
    print('mlp_gelu.onnx', [n.op_type for n in onnx.load(path('mlp_gelu.onnx')).graph.node])


if __name__ == '__main__':
    make_cnn()
    make_ops()
    make_external()
    make_mlp_gelu()
    with open(path('cases.txt'), 'w') as f:
        f.write('\n'.join(cases) + '\n')
    print(len(cases), 'op cases')
