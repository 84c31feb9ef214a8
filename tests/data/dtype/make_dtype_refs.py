#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the reference tables that tests/core/dtype*_test.cpp compare pare's element types to.

Run from anywhere with the system Python (python3-torch installed):

    /usr/bin/python3 tests/data/dtype/make_dtype_refs.py

Outputs (all next to this script, text, one record a line, numbers in hex):

  fp8_decode.csv    bits, e4m3 value, e5m2 value (as float32 bit patterns) for all 256 bytes,
                    decoded from the OCP OFP8 1.0 definition with exact rationals (fractions),
                    NOT with torch: torch 1.13 (the version Debian ships here) has no float8 dtypes.
  fp8_encode.csv    float32 bits -> e4m3 (saturating, non-saturating), e5m2 (sat, non-sat), for
                    every midpoint between neighbouring fp8 values, the floats just around it, the
                    overflow thresholds and special values. Rounding is done here from the spec:
                    nearest exact rational, ties to the even pattern, overflow decided as if the
                    exponent range were unbounded (IEEE 754 / OFP8).
  bf16_torch.csv    float32 bits -> bfloat16 bits, converted by torch (c10::BFloat16, round to
                    nearest even) for tricky floats: rounding boundaries in every binade,
                    subnormals, overflow, infinities, NaNs.
  f16_torch.csv     the same for torch.float16.
  torch_decode.csv  FNV-1a 64 hash of torch's decode of all 65536 bfloat16 / float16 patterns to
                    float32 (NaNs canonicalized to 0x7fc00000), so the C++ test can compare its
                    exhaustive decode to torch's without a 256 KiB table in the repository.
"""

import math
import os
import struct
from fractions import Fraction

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def bits_f32(b: int) -> float:
    return struct.unpack("<f", struct.pack("<I", b))[0]


# ---------------------------------------------------------------------------------------------
# OFP8 from the spec text: value = (-1)^S * 2^(E - bias) * (1 + M / 2^m) for E > 0,
#                                  (-1)^S * 2^(1 - bias) * (M / 2^m)     for E == 0.
# E4M3: bias 7, no infinities, S.1111.111 is NaN.  E5M2: bias 15, IEEE-style inf/NaN.
FORMATS = {
    "e4m3": dict(e=4, m=3, bias=7, ieee=False),
    "e5m2": dict(e=5, m=2, bias=15, ieee=True),
}


def fp8_value(fmt, b):
    """Exact value of byte b as a Fraction, or 'nan' / 'inf' / '-inf'."""
    e_bits, m_bits, bias = fmt["e"], fmt["m"], fmt["bias"]
    s = (b >> 7) & 1
    e = (b >> m_bits) & ((1 << e_bits) - 1)
    m = b & ((1 << m_bits) - 1)
    if fmt["ieee"] and e == (1 << e_bits) - 1:
        if m == 0:
            return "-inf" if s else "inf"
        return "nan"
    if not fmt["ieee"] and e == (1 << e_bits) - 1 and m == (1 << m_bits) - 1:
        return "nan"
    if e == 0:
        v = Fraction(m, 1 << m_bits) * Fraction(2) ** (1 - bias)
    else:
        v = (1 + Fraction(m, 1 << m_bits)) * Fraction(2) ** (e - bias)
    return -v if s else v


def fraction_to_f32_bits(v, negative_zero=False):
    if v == 0:
        return 0x80000000 if negative_zero else 0
    f = float(v)  # exact: every fp8 value has <= 4 significant bits and a small exponent
    assert Fraction(f) == v
    assert Fraction(bits_f32(f32_bits(f))) == v
    return f32_bits(f)


def decode_f32_bits(fmt, b):
    v = fp8_value(fmt, b)
    if v == "nan":
        return 0xFFC00000 if b & 0x80 else 0x7FC00000
    if v == "inf":
        return 0x7F800000
    if v == "-inf":
        return 0xFF800000
    return fraction_to_f32_bits(v, negative_zero=(b == 0x80))


_POSITIVE = {}


def positive_finite(fmt):
    key = (fmt["e"], fmt["m"])
    if key not in _POSITIVE:
        _POSITIVE[key] = _positive_finite(fmt)
    return _POSITIVE[key]


def _positive_finite(fmt):
    """(value, bits) of every non-negative finite pattern, ascending, plus the virtual next one."""
    out = [(fp8_value(fmt, b), b) for b in range(0x80) if fp8_value(fmt, b) not in ("nan", "inf")]
    out.sort()
    vmax, bmax = out[-1]
    ulp = out[-1][0] - out[-2][0]
    out.append((vmax + ulp, bmax + 1))  # rounding with an unbounded exponent; landing here = overflow
    return out


def fp8_encode(fmt, x_bits, saturate):
    ieee = fmt["ieee"]
    table = positive_finite(fmt)
    max_bits = table[-2][1]
    sign = 0x80 if x_bits >> 31 else 0
    mag = x_bits & 0x7FFFFFFF
    nan = 0x7F if not ieee else 0x7E
    if mag > 0x7F800000:
        return None  # any NaN
    if mag == 0x7F800000:
        return sign | (max_bits if saturate else (0x7C if ieee else nan))
    x = Fraction(bits_f32(mag))
    best = None
    for v, b in table:
        d = abs(v - x)
        if best is None or d < best[0] or (d == best[0] and b % 2 == 0):
            best = (d, b)
    b = best[1]
    if b > max_bits:
        return sign | (max_bits if saturate else (0x7C if ieee else nan))
    return sign | b


def write_fp8():
    with open(os.path.join(HERE, "fp8_decode.csv"), "w") as f:
        f.write("# bits,e4m3_f32_bits,e5m2_f32_bits  (generated by make_dtype_refs.py from the OFP8 definition)\n")
        for b in range(256):
            f.write(f"{b:02x},{decode_f32_bits(FORMATS['e4m3'], b):08x},{decode_f32_bits(FORMATS['e5m2'], b):08x}\n")

    probes = set()
    for fmt in FORMATS.values():
        t = positive_finite(fmt)
        for (a, _), (c, _) in zip(t, t[1:]):
            for v in (a, c, (a + c) / 2):
                fb = f32_bits(float(v))
                assert Fraction(bits_f32(fb)) == v  # midpoints of fp8 values are exact floats
                for d in (-2, -1, 0, 1, 2):
                    if 0 <= fb + d < 0x7F800000:
                        probes.add(fb + d)
    probes |= {0, 1, 0x7F7FFFFF, 0x7F800000, 0x00800000, 0x007FFFFF,
               f32_bits(448.0), f32_bits(464.0), f32_bits(480.0), f32_bits(57344.0),
               f32_bits(61440.0), f32_bits(65536.0), f32_bits(1e6)}
    probes = sorted(probes)
    with open(os.path.join(HERE, "fp8_encode.csv"), "w") as f:
        f.write("# f32_bits,e4m3_sat,e4m3_nonsat,e5m2_sat,e5m2_nonsat  (generated by make_dtype_refs.py)\n")
        for sign in (0, 0x80000000):
            for p in probes:
                x = p | sign
                r = [fp8_encode(FORMATS[n], x, s) for n in ("e4m3", "e5m2") for s in (True, False)]
                f.write(f"{x:08x}," + ",".join(f"{v:02x}" for v in r) + "\n")
    return len(probes) * 2


# ---------------------------------------------------------------------------------------------
# 16-bit types through torch.
def tricky_floats(mant_bits, exponents):
    """Float32 patterns at the rounding boundaries of a format keeping `mant_bits` mantissa bits,
    in the float binades `exponents` (biased), plus every power of two and specials."""
    drop = 23 - mant_bits
    half = 1 << (drop - 1)
    lows = sorted({0, 1, half - 1, half, half + 1, (1 << drop) - 1})
    out = set()
    for e in exponents:
        for top in (0, 1, (1 << mant_bits) - 1):
            for lo in lows:
                out.add((e << 23) | (top << drop) | lo)
    # Around every power of two from 2^-149 (subnormal rounding of both formats) upwards.
    for k in range(0, 255 << 23, 1 << 23):
        for d in (-1, 0, 1):
            if 0 <= k + d < 0x7F800000:
                out.add(k + d)
    out |= {0x7F800000, 0x7F800001, 0x7FC00000, 0x7FFFFFFF, 0x7FA00000, 0x7F7FFFFF}
    # half-precision overflow boundary (65504 + half ulp = 65520) and bf16 max boundary
    for base in (f32_bits(65504.0), f32_bits(65520.0), 0x7F7F8000, 0x7F7F7FFF):
        for d in range(-2, 3):
            out.add(base + d)
    return sorted(b for b in out if b <= 0x7FFFFFFF)


def torch_convert(bits, dtype):
    x = torch.tensor(bits, dtype=torch.int64).to(torch.int32).view(torch.float32)
    y = x.to(dtype).view(torch.int16).to(torch.int64) & 0xFFFF
    return y.tolist()


def fnv1a64(words):
    h = 0xCBF29CE484222325
    for w in words:
        for byte in struct.pack("<I", w):
            h ^= byte
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def torch_decode_hash(dtype):
    b = torch.arange(65536, dtype=torch.int32).to(torch.int16).view(dtype).to(torch.float32)
    nan = torch.isnan(b)
    w = b.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    w[nan] = 0x7FC00000
    return fnv1a64(w.tolist())


def write_torch():
    counts = {}
    for name, dtype, mant, exps in (("bf16", torch.bfloat16, 7, range(0, 255)),
                                    ("f16", torch.float16, 10, range(96, 145))):
        pos = tricky_floats(mant, exps)
        allbits = pos + [b | 0x80000000 for b in pos[::7]]
        res = torch_convert(allbits, dtype)
        with open(os.path.join(HERE, f"{name}_torch.csv"), "w") as f:
            f.write(f"# f32_bits,{name}_bits  (torch {torch.__version__}, generated by make_dtype_refs.py)\n")
            for x, r in zip(allbits, res):
                f.write(f"{x:08x},{r:04x}\n")
        counts[name] = len(allbits)
    with open(os.path.join(HERE, "torch_decode.csv"), "w") as f:
        f.write(f"# type,fnv1a64 of the 65536 decoded float32 patterns, NaN -> 7fc00000 (torch {torch.__version__})\n")
        f.write(f"bf16,{torch_decode_hash(torch.bfloat16):016x}\n")
        f.write(f"f16,{torch_decode_hash(torch.float16):016x}\n")
    return counts


if __name__ == "__main__":
    n = write_fp8()
    c = write_torch()
    print(f"fp8_encode: {n} probes; bf16_torch: {c['bf16']}; f16_torch: {c['f16']}")
