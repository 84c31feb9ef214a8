#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes ONNX's own backend node test cases (the generators Debian's python3-onnx ships in
onnx/backend/test/case/node) into OUT/node/<case>/{model.onnx, test_data_set_0/*.pb}, the data
that tests/onnx_node/node_runner.cpp runs pare's graph runtime on. Nothing is stored in the
repository: the cases are made again at test time (about 2 s, 28 MB).

  /usr/bin/python3 tests/onnx_node/generate.py OUT
"""
import argparse
import sys
import warnings

import numpy as np

# The generators of onnx 1.12 use aliases numpy 1.24 removed (np.float, np.bool, ...).
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    for alias, builtin in {'float': float, 'int': int, 'bool': bool, 'object': object,
                           'complex': complex, 'str': str}.items():
        if alias not in np.__dict__:
            setattr(np, alias, builtin)

from onnx.backend.test import cmd_tools  # noqa: E402  (after the aliases)

if len(sys.argv) != 2:
    sys.exit('usage: generate.py OUT')
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    cmd_tools.generate_data(argparse.Namespace(output=sys.argv[1], op_type=None))
