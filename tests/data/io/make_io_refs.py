#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the reference files that tests/io/*_test.cpp read: .npy/.npz by numpy itself, and
.safetensors by a small independent writer that follows the published spec (the `safetensors`
Python package is not installed here). Values follow formulas the C++ tests recompute:

  float kinds  : v[i] = (i - 2.5) * 0.5            (exact in every float type)
  signed ints  : [min, -1, 0, 1, 2, max]
  unsigned ints: [0, 1, 2, 3, max - 1, max]
  bool         : v[i] = (i % 3 == 0)
  shape (2, 3), row-major logical order, unless the name says otherwise.

Run from anywhere: /usr/bin/python3 tests/data/io/make_io_refs.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))


def values(dt):
    dt = np.dtype(dt)
    if dt.kind == 'f':
        return ((np.arange(6) - 2.5) * 0.5).astype(dt).reshape(2, 3)
    if dt.kind == 'i':
        info = np.iinfo(dt)
        return np.array([info.min, -1, 0, 1, 2, info.max], dtype=dt).reshape(2, 3)
    if dt.kind == 'u':
        info = np.iinfo(dt)
        return np.array([0, 1, 2, 3, info.max - 1, info.max], dtype=dt).reshape(2, 3)
    if dt.kind == 'b':
        return (np.arange(6) % 3 == 0).reshape(2, 3)
    raise ValueError(dt)


NPY_TYPES = {'f4': '<f4', 'f8': '<f8', 'f2': '<f2', 'i1': '|i1', 'i2': '<i2', 'i4': '<i4',
             'i8': '<i8', 'u1': '|u1', 'u2': '<u2', 'u4': '<u4', 'u8': '<u8', 'b1': '|b1'}


def write_npy():
    d = os.path.join(OUT, 'npy')
    os.makedirs(d, exist_ok=True)
    for tag, descr in NPY_TYPES.items():
        a = values(descr)
        np.save(os.path.join(d, f'{tag}_c.npy'), a)
        np.save(os.path.join(d, f'{tag}_fortran.npy'), np.asfortranarray(a))
    np.save(os.path.join(d, 'i2_fortran3d.npy'),
            np.asfortranarray(np.arange(24, dtype='<i2').reshape(2, 3, 4)))
    np.save(os.path.join(d, 'f4_be.npy'), values('<f4').astype('>f4'))
    np.save(os.path.join(d, 'i4_be.npy'), values('<i4').astype('>i4'))
    np.save(os.path.join(d, 'scalar_f8.npy'), np.array(3.5))
    np.save(os.path.join(d, 'empty_f4.npy'), np.zeros((0, 3), dtype='<f4'))
    for v in (2, 3):
        with open(os.path.join(d, f'f4_v{v}.npy'), 'wb') as f:
            np.lib.format.write_array(f, values('<f4'), version=(v, 0))
    np.savez(os.path.join(d, 'arrays.npz'), a=values('<f4'), b=values('<i8'), c=np.array(3.5))
    np.savez_compressed(os.path.join(d, 'arrays_compressed.npz'), a=values('<f4'))


# Independent safetensors writer, from the spec: u64 header length N, N bytes of JSON
# (compact, "__metadata__" first, then tensors sorted as the reference sorts them: by dtype in
# descending order of its Dtype enum, then by name), padded with spaces to 8 bytes, then data.
ST_RANK = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32',
           'F32', 'F64', 'I64', 'U64']


def write_safetensors(path, tensors, metadata):
    """tensors: {name: (dtype_string, shape, raw_bytes)}"""
    order = sorted(tensors, key=lambda n: (-ST_RANK.index(tensors[n][0]), n))
    header, data, off = {}, b'', 0
    if metadata:
        header['__metadata__'] = dict(sorted(metadata.items()))
    for n in order:
        dt, shape, raw = tensors[n]
        header[n] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + data)


def write_st():
    d = os.path.join(OUT, 'safetensors')
    os.makedirs(d, exist_ok=True)
    f32 = values('<f4')
    bf16 = (f32.view('<u4') >> 16).astype('<u2')  # exact: the values have short mantissas
    fp8 = np.arange(6, dtype='u1') * 0x11  # raw bit patterns, checked as bits
    tensors = {
        'f32': ('F32', (2, 3), f32.tobytes()),
        'f64': ('F64', (2, 3), values('<f8').tobytes()),
        'f16': ('F16', (2, 3), values('<f2').tobytes()),
        'bf16': ('BF16', (2, 3), bf16.tobytes()),
        'i64': ('I64', (2, 3), values('<i8').tobytes()),
        'i32': ('I32', (2, 3), values('<i4').tobytes()),
        'i16': ('I16', (2, 3), values('<i2').tobytes()),
        'i8': ('I8', (2, 3), values('|i1').tobytes()),
        'u8': ('U8', (2, 3), values('|u1').tobytes()),
        'bool': ('BOOL', (2, 3), values('|b1').tobytes()),
        'e4m3': ('F8_E4M3', (2, 3), fp8.tobytes()),
        'e5m2': ('F8_E5M2', (2, 3), fp8.tobytes()),
        'vec': ('F32', (4,), np.arange(4, dtype='<f4').tobytes()),
        'empty': ('F32', (0, 3), b''),
    }
    write_safetensors(os.path.join(d, 'mixed.safetensors'), tensors,
                      {'format': 'pt', 'source': 'make_io_refs.py'})
    write_safetensors(os.path.join(d, 'small.safetensors'),
                      {'w': ('F32', (2, 2), np.arange(4, dtype='<f4').tobytes()),
                       'b': ('I8', (3,), np.array([1, -2, 3], dtype='i1').tobytes())}, {'k': 'v'})


if __name__ == '__main__':
    write_npy()
    write_st()
