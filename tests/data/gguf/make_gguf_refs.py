#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the GGUF reference files for tests/io/gguf_test.cpp with the real ggml library.

The files are written and the expected values computed by llama.cpp's own code, not by a
re-implementation: libggml-base.so from the npm package `@node-llama-cpp/linux-x64` (a prebuilt
llama.cpp/ggml, driven here through ctypes). Get it with

    npm pack @node-llama-cpp/linux-x64@3.21.1 && tar xzf node-llama-cpp-linux-x64-3.21.1.tgz
    /usr/bin/python3 make_gguf_refs.py package/bins/linux-x64/libggml-base.so

(or set GGML_BASE_LIB). Needs numpy (python3-numpy). Everything it writes lands next to this
script and is committed, so the tests never need npm or Python.

What it writes:
  ggml_types.gguf     gguf_write_to_file(): metadata of every GGUF value type (scalars, arrays of
                      each, an empty array, a string array) and one tensor per ggml type pare reads
                      (F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K
                      I8 I16 I32 I64 F64), quantized by ggml's own quantizers.
  deq_<type>.npy      ggml's dequantize_row_<type>() of that tensor (float32, pare row-major
                      shape); for F16/BF16/int types the exact conversion.
  quant_input.npy     float32 input for the quantizer tests (random blocks plus edge blocks).
  q8_0_ref.bin        quantize_row_q8_0_ref(quant_input), raw blocks.
  q4_0_ref.bin        quantize_row_q4_0_ref(quant_input), raw blocks.
  writer_ref.gguf     gguf_write_to_file() of a few metadata keys and quant_input stored as
                      F32, F16, Q8_0 and Q4_0: pare's write_gguf must produce the same bytes.
"""
import ctypes
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

lib_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GGML_BASE_LIB")
if not lib_path:
    sys.exit(__doc__)
L = ctypes.CDLL(os.path.abspath(lib_path))

c_void_p, c_char_p, c_int64, c_size_t = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_size_t


class InitParams(ctypes.Structure):
    _fields_ = [("mem_size", c_size_t), ("mem_buffer", c_void_p), ("no_alloc", ctypes.c_bool)]


L.ggml_init.restype = c_void_p
L.ggml_init.argtypes = [InitParams]
L.ggml_free.argtypes = [c_void_p]
L.ggml_new_tensor.restype = c_void_p
L.ggml_new_tensor.argtypes = [c_void_p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(c_int64)]
L.ggml_set_name.restype = c_void_p
L.ggml_set_name.argtypes = [c_void_p, c_char_p]
L.ggml_type_size.restype = c_size_t
L.ggml_blck_size.restype = c_int64
L.ggml_type_name.restype = c_char_p
L.ggml_quantize_chunk.restype = c_size_t
L.ggml_quantize_chunk.argtypes = [ctypes.c_int, c_void_p, c_void_p, c_int64, c_int64, c_int64, c_void_p]
L.gguf_init_empty.restype = c_void_p
L.gguf_free.argtypes = [c_void_p]
L.gguf_add_tensor.argtypes = [c_void_p, c_void_p]
L.gguf_set_tensor_data.argtypes = [c_void_p, c_char_p, c_void_p]
L.gguf_write_to_file.restype = ctypes.c_bool
L.gguf_write_to_file.argtypes = [c_void_p, c_char_p, ctypes.c_bool]
for t, ct in [("u8", ctypes.c_uint8), ("i8", ctypes.c_int8), ("u16", ctypes.c_uint16), ("i16", ctypes.c_int16),
              ("u32", ctypes.c_uint32), ("i32", ctypes.c_int32), ("f32", ctypes.c_float), ("u64", ctypes.c_uint64),
              ("i64", ctypes.c_int64), ("f64", ctypes.c_double), ("bool", ctypes.c_bool), ("str", c_char_p)]:
    getattr(L, "gguf_set_val_" + t).argtypes = [c_void_p, c_char_p, ct]
L.gguf_set_arr_data.argtypes = [c_void_p, c_char_p, ctypes.c_int, c_void_p, c_size_t]
L.gguf_set_arr_str.argtypes = [c_void_p, c_char_p, ctypes.POINTER(c_char_p), c_size_t]

# ggml_type ids (ggml.h) and gguf_type ids (gguf.h)
T = dict(f32=0, f16=1, q4_0=2, q4_1=3, q5_0=6, q5_1=7, q8_0=8, q8_1=9, q2_K=10, q3_K=11, q4_K=12, q5_K=13,
         q6_K=14, q8_K=15, i8=24, i16=25, i32=26, i64=27, f64=28, bf16=30)
G = dict(u8=0, i8=1, u16=2, i16=3, u32=4, i32=5, f32=6, bool=7, str=8, arr=9, u64=10, i64=11, f64=12)

for name, t in T.items():
    assert L.ggml_type_name(t).decode() == name, (name, L.ggml_type_name(t))


def ptr(a):
    return a.ctypes.data_as(c_void_p)


def quantize(tname, x):
    """ggml's reference quantization of float32 `x` (rows of ne0 = x.shape[-1])."""
    t = T[tname]
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = x.size
    nbytes = n // L.ggml_blck_size(t) * L.ggml_type_size(t)
    out = np.zeros(nbytes, dtype=np.uint8)
    if tname in ("q8_1", "q8_K"):  # activation-only types: ggml_quantize_chunk refuses them
        fn = getattr(L, "quantize_row_%s_ref" % tname)
        fn.argtypes = [c_void_p, c_void_p, c_int64]
        fn(ptr(x), ptr(out), n)
    else:
        ne0 = x.shape[-1]
        got = L.ggml_quantize_chunk(t, ptr(x), ptr(out), 0, n // ne0, ne0, None)
        assert got == nbytes
    return out


def dequantize(tname, blocks, shape):
    n = int(np.prod(shape))
    y = np.zeros(n, dtype=np.float32)
    if tname == "q8_1":  # ggml has no to_float for Q8_1: d * q, as dequantize_row_q8_0 does
        b = blocks.reshape(-1, 36)
        d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
        q = b[:, 4:].copy().view(np.int8).astype(np.float32)
        y = (q * d).astype(np.float32).reshape(-1)
    else:
        fn = getattr(L, "dequantize_row_" + tname)
        fn.argtypes = [c_void_p, c_void_p, c_int64]
        fn(ptr(blocks), ptr(y), n)
    return y.reshape(shape)


def add_tensor(ctx, gctx, name, tname, shape, data, keep):
    """`shape` is pare's row-major shape; ggml's ne is its reverse."""
    ne = (c_int64 * 4)(*reversed(shape))
    t = L.ggml_new_tensor(ctx, T[tname], len(shape), ne)
    L.ggml_set_name(t, name.encode())
    L.gguf_add_tensor(gctx, t)
    data = np.ascontiguousarray(data)
    keep.append(data)
    L.gguf_set_tensor_data(gctx, name.encode(), ptr(data))


def set_arr(gctx, key, gtype, arr):
    arr = np.ascontiguousarray(arr)
    L.gguf_set_arr_data(gctx, key.encode(), G[gtype], ptr(arr) if arr.size else None, arr.size)


rng = np.random.default_rng(20240611)


def weights(shape):
    x = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:5] = [0.0, -0.0, 3.5, -7.25, 1e-3]
    return x


# ---------------------------------------------------------------- ggml_types.gguf
ctx = L.ggml_init(InitParams(1 << 20, None, True))
gctx = L.gguf_init_empty()
keep = []

L.gguf_set_val_str(gctx, b"general.architecture", b"pare-test")
L.gguf_set_val_str(gctx, b"general.name", "ünïcode name".encode())
L.gguf_set_val_u8(gctx, b"test.u8", 200)
L.gguf_set_val_i8(gctx, b"test.i8", -100)
L.gguf_set_val_u16(gctx, b"test.u16", 60000)
L.gguf_set_val_i16(gctx, b"test.i16", -30000)
L.gguf_set_val_u32(gctx, b"test.u32", 4000000000)
L.gguf_set_val_i32(gctx, b"test.i32", -2000000000)
L.gguf_set_val_f32(gctx, b"test.f32", 0.1)
L.gguf_set_val_u64(gctx, b"test.u64", 18000000000000000000)
L.gguf_set_val_i64(gctx, b"test.i64", -9000000000000000000)
L.gguf_set_val_f64(gctx, b"test.f64", 0.1)
L.gguf_set_val_bool(gctx, b"test.bool_true", True)
L.gguf_set_val_bool(gctx, b"test.bool_false", False)
L.gguf_set_val_str(gctx, b"test.empty_str", b"")
set_arr(gctx, "test.arr_u8", "u8", np.array([0, 1, 255], np.uint8))
set_arr(gctx, "test.arr_i8", "i8", np.array([-128, 0, 127], np.int8))
set_arr(gctx, "test.arr_u16", "u16", np.array([0, 65535], np.uint16))
set_arr(gctx, "test.arr_i16", "i16", np.array([-32768, 32767], np.int16))
set_arr(gctx, "test.arr_u32", "u32", np.array([1, 2, 3, 4294967295], np.uint32))
set_arr(gctx, "test.arr_i32", "i32", np.array([-1, 0, 1], np.int32))
set_arr(gctx, "test.arr_f32", "f32", np.array([0.5, -1.25, 3.0e38], np.float32))
set_arr(gctx, "test.arr_u64", "u64", np.array([0, 2**64 - 1], np.uint64))
set_arr(gctx, "test.arr_i64", "i64", np.array([-(2**63), 2**63 - 1], np.int64))
set_arr(gctx, "test.arr_f64", "f64", np.array([1.0 / 3.0, -2.5], np.float64))
set_arr(gctx, "test.arr_bool", "bool", np.array([True, False, True], np.bool_))
set_arr(gctx, "test.arr_empty", "i32", np.array([], np.int32))
strs = [b"", b"a", b"hello world", "ü".encode()]
L.gguf_set_arr_str(gctx, b"test.arr_str", (c_char_p * len(strs))(*strs), len(strs))

tensors = [  # name, ggml type, pare shape
    ("t.f32", "f32", (2, 3, 32)),
    ("t.f16", "f16", (3, 32)),
    ("t.bf16", "bf16", (3, 32)),
    ("t.q4_0", "q4_0", (2, 64)),
    ("t.q4_1", "q4_1", (2, 64)),
    ("t.q5_0", "q5_0", (2, 64)),
    ("t.q5_1", "q5_1", (2, 64)),
    ("t.q8_0", "q8_0", (2, 64)),
    ("t.q8_1", "q8_1", (2, 32)),
    ("t.q2_K", "q2_K", (256,)),
    ("t.q3_K", "q3_K", (256,)),
    ("t.q4_K", "q4_K", (2, 256)),
    ("t.q5_K", "q5_K", (256,)),
    ("t.q6_K", "q6_K", (256,)),
    ("t.q8_K", "q8_K", (256,)),
    ("t.i8", "i8", (5,)),
    ("t.i16", "i16", (5,)),
    ("t.i32", "i32", (5,)),
    ("t.i64", "i64", (5,)),
    ("t.f64", "f64", (5,)),
]
ints = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64}
for name, tname, shape in tensors:
    if tname in ints:
        info = np.iinfo(ints[tname])
        data = np.array([info.min, -1, 0, 7, info.max], ints[tname])
        deq = data.astype(np.float32)
    elif tname == "f64":
        data = np.array([1.0 / 3.0, -2.5, 1e300, 0.0, 1e-300], np.float64)
        deq = data.astype(np.float32)
    elif tname == "f32":
        data = weights(shape)
        deq = data
    elif tname == "f16":
        w = weights(shape)
        data = quantize("f16", w).view(np.float16).reshape(shape)
        assert np.array_equal(data, w.astype(np.float16))  # ggml rounds to nearest even, as numpy
        deq = data.astype(np.float32)
    elif tname == "bf16":
        data = quantize("bf16", weights(shape)).view(np.uint16).reshape(shape)
        deq = (data.astype(np.uint32) << 16).view(np.float32)
    else:
        data = quantize(tname, weights(shape))
        deq = dequantize(tname, data, shape)
    add_tensor(ctx, gctx, name, tname, shape, data, keep)
    np.save(os.path.join(HERE, "deq_%s.npy" % tname), np.ascontiguousarray(deq, dtype=np.float32).reshape(shape))

assert L.gguf_write_to_file(gctx, os.path.join(HERE, "ggml_types.gguf").encode(), False)
L.gguf_free(gctx)
L.ggml_free(ctx)

# ---------------------------------------------------------------- quantizer references
blocks = [rng.standard_normal(32).astype(np.float32) * s for s in (1.0, 0.01, 100.0, 1e4)]
blocks.append(np.zeros(32, np.float32))                                        # all zero: d = 0
blocks.append(np.full(32, -3.0, np.float32))                                   # constant negative
e = np.zeros(32, np.float32); e[7] = 5.0; e[8] = -5.0; blocks.append(e)        # tie in |max|: first wins
h = (np.arange(32, dtype=np.float32) - 16) / 16 * 8.0; blocks.append(h)        # exact grid points
blocks.append(np.linspace(-1, 1, 32).astype(np.float32) * 127.0 / 2)           # halfway values for q8_0
t = np.array([1e-30, -2e-30] * 16, np.float32); blocks.append(t)              # tiny but normal
x = np.concatenate(blocks).astype(np.float32)
np.save(os.path.join(HERE, "quant_input.npy"), x)
for tname in ("q8_0", "q4_0"):
    out = np.zeros(x.size // 32 * L.ggml_type_size(T[tname]), np.uint8)
    fn = getattr(L, "quantize_row_%s_ref" % tname)
    fn.argtypes = [c_void_p, c_void_p, c_int64]
    fn(ptr(x), ptr(out), x.size)
    out.tofile(os.path.join(HERE, "%s_ref.bin" % tname))

# ---------------------------------------------------------------- writer_ref.gguf
ctx = L.ggml_init(InitParams(1 << 20, None, True))
gctx = L.gguf_init_empty()
keep = []
L.gguf_set_val_str(gctx, b"general.architecture", b"pare-test")
L.gguf_set_val_u32(gctx, b"general.alignment", 32)
L.gguf_set_val_f32(gctx, b"test.scale", 0.25)
L.gguf_set_val_bool(gctx, b"test.flag", True)
set_arr(gctx, "test.ids", "i32", np.array([3, 1, 4, 1, 5], np.int32))
strs = [b"tok_a", b"tok_b"]
L.gguf_set_arr_str(gctx, b"test.tokens", (c_char_p * 2)(*strs), 2)
m = x.reshape(-1, 64)[:5]  # 5 rows of 64 (pare shape [5, 64])
add_tensor(ctx, gctx, "w.f32", "f32", m.shape, m, keep)
add_tensor(ctx, gctx, "w.f16", "f16", m.shape, quantize("f16", m), keep)
add_tensor(ctx, gctx, "w.q8_0", "q8_0", m.shape, quantize("q8_0", m), keep)
add_tensor(ctx, gctx, "w.q4_0", "q4_0", m.shape, quantize("q4_0", m), keep)
v = x[:7]
add_tensor(ctx, gctx, "b.f32", "f32", v.shape, v, keep)  # 28 bytes: padded to 32
assert L.gguf_write_to_file(gctx, os.path.join(HERE, "writer_ref.gguf").encode(), False)
L.gguf_free(gctx)
L.ggml_free(ctx)
print("wrote GGUF references to", HERE)
