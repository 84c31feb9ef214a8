#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the PyTorch checkpoints that tests/io/torch_checkpoint_test.cpp reads, and the expected
values as .npy (contiguous, row-major; bf16 tensors as float32, which holds them exactly).

  mlp.pt        state_dict of Sequential(Linear(8, 4), ReLU, Linear(4, 3)), torch.manual_seed(0)
  params.pt     dict(model.named_parameters()): nn.Parameter objects (_rebuild_parameter)
  dtypes.pt     one (2, 3) tensor per dtype, v[i] = (i - 2.5) * 0.5 for floats, edge values for ints
  views.pt      a transposed view, its base, a row view (storage offset), a step-2 slice, a
                permuted 3-D view, a 0-d tensor and a (0, 3) empty tensor; views share storages
  nested.pt     a training checkpoint {'epoch', 'state_dict', 'lr', 'name', 'extra': [tensor]}
  proto4.pt     views-like dict saved with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL, ...)
  bigendian.pt  mlp.pt rewritten as a big-endian machine would save it (byteorder = 'big')
  legacy*.pt    the legacy format (_use_new_zipfile_serialization=False, and every torch.save
                before PyTorch 1.6): legacy.pt = mlp.pt's state_dict, legacy_dtypes.pt = dtypes.pt,
                legacy_views.pt = views.pt (shared storages, offsets, strides), legacy_proto4.pt
                = the nested checkpoint with pickle_protocol=4 (a FRAME before the magic number);
                the tests compare them with the zip-format files. legacy_storage_view.pt is
                hand-written the way PyTorch < 0.4 saved a storage view (pare refuses it)
  malicious.pt  a zip whose data.pkl calls os.system — built by hand, never loaded here

Run from anywhere: /usr/bin/python3 tests/data/torch/make_torch_refs.py
"""
import collections
import os
import zipfile

import numpy as np
import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


def save_expected(prefix, d):
    for k, v in d.items():
        if not isinstance(v, torch.Tensor):
            continue
        v = v.detach()
        a = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
        np.save(path(f'{prefix}__{k}.npy'), np.ascontiguousarray(a))


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))


def dtypes():
    f = (torch.arange(6, dtype=torch.float64) - 2.5) * 0.5
    d = collections.OrderedDict()
    for name, dt in [('f32', torch.float32), ('f64', torch.float64), ('f16', torch.float16),
                     ('bf16', torch.bfloat16)]:
        d[name] = f.to(dt).reshape(2, 3)
    for name, dt in [('i64', torch.int64), ('i32', torch.int32), ('i16', torch.int16), ('i8', torch.int8)]:
        info = torch.iinfo(dt)
        d[name] = torch.tensor([info.min, -1, 0, 1, 2, info.max], dtype=dt).reshape(2, 3)
    d['u8'] = torch.tensor([0, 1, 2, 3, 254, 255], dtype=torch.uint8).reshape(2, 3)
    d['bool'] = (torch.arange(6) % 3 == 0).reshape(2, 3)
    return d


def views():
    a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    c = torch.arange(24, dtype=torch.int32).reshape(2, 3, 4)
    d = collections.OrderedDict()
    d['transposed'] = a.t()              # shape (4, 3), stride (1, 4)
    d['base'] = a
    d['row'] = a[1]                      # storage offset 4
    d['step'] = a[:, 1::2]               # shape (3, 2), stride (4, 2), offset 1
    d['permuted'] = c.permute(2, 0, 1)   # shape (4, 2, 3), stride (1, 12, 4)
    d['scalar'] = torch.tensor(3.5, dtype=torch.float64)
    d['empty'] = torch.zeros(0, 3)
    return d


def rewrite_big_endian(src, dst):
    """Copies a torch zip of float32 storages, byte-swapping each and adding byteorder = 'big'
    (what PyTorch >= 2.1 writes on a big-endian machine)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
        for n in zin.namelist():
            data = zin.read(n)
            if '/data/' in n:
                data = np.frombuffer(data, dtype='<f4').astype('>f4').tobytes()
            zout.writestr(n, data)
        zout.writestr(zin.namelist()[0].split('/')[0] + '/byteorder', b'big')


def malicious(dst):
    # GLOBAL 'os system', the argument 'echo pwned', TUPLE1, REDUCE, STOP: pickle.load would run it.
    pkl = b'\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.'
    with zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('malicious/data.pkl', pkl)
        z.writestr('malicious/version', b'3\n')


def legacy_storage_view(dst):
    """A legacy file whose tensor lives in a view of a storage (the sixth item of the persistent
    id is (root key, offset, size) instead of None), as PyTorch before 0.4 wrote them."""
    import io
    import pickle
    import sys
    root = torch.arange(6, dtype=torch.float32)
    storage = root.storage()
    view_id = ('storage', torch.FloatStorage, '1', 'cpu', 6, ('2', 2, 4))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return view_id if obj is storage else None

    with open(dst, 'wb') as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump(dict(protocol_version=1001, little_endian=sys.byteorder == 'little',
                         type_sizes=dict(short=2, int=4, long=4)), f, protocol=2)
        body = io.BytesIO()
        t = torch._utils._rebuild_tensor_v2
        Pickler(body, protocol=2).dump({'w': _Reduce(t, (storage, 0, (4,), (1,), False,
                                                         collections.OrderedDict()))})
        f.write(body.getvalue())
        pickle.dump(['1'], f, protocol=2)
        f.write((6).to_bytes(8, 'little'))
        f.write(root.numpy().tobytes())


class _Reduce:
    """Pickles as a call of `fn(*args)` (what a tensor's __reduce_ex__ returns)."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def main():
    m = mlp()
    torch.save(m.state_dict(), path('mlp.pt'))
    save_expected('mlp', m.state_dict())
    torch.save(dict(m.named_parameters()), path('params.pt'))
    d = dtypes()
    torch.save(d, path('dtypes.pt'))
    save_expected('dtypes', d)
    v = views()
    torch.save(v, path('views.pt'))
    save_expected('views', v)
    torch.save({'epoch': 3, 'state_dict': m.state_dict(), 'lr': 0.1, 'name': 'run-1',
                'extra': [torch.tensor([1, 2, 3]), None]}, path('nested.pt'))
    torch.save(v, path('proto4.pt'), pickle_protocol=4)
    rewrite_big_endian(path('mlp.pt'), path('bigendian.pt'))
    torch.save(m.state_dict(), path('legacy.pt'), _use_new_zipfile_serialization=False)
    torch.save(d, path('legacy_dtypes.pt'), _use_new_zipfile_serialization=False)
    torch.save(v, path('legacy_views.pt'), _use_new_zipfile_serialization=False)
    torch.save({'epoch': 3, 'state_dict': m.state_dict(), 'lr': 0.1, 'name': 'run-1',
                'extra': [torch.tensor([1, 2, 3]), None]}, path('legacy_proto4.pt'),
               pickle_protocol=4, _use_new_zipfile_serialization=False)
    legacy_storage_view(path('legacy_storage_view.pt'))
    malicious(path('malicious.pt'))


if __name__ == '__main__':
    main()
