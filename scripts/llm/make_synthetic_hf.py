#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a synthetic Hugging Face llama checkpoint (config.json, safetensors shards of at most
--shard-gb, model.safetensors.index.json) with finite random weights, fast: a 64 MiB pool of
random values is written over and over at rotating offsets (the values do not matter to a
benchmark, only that they are finite and not constant). Each shard is fsync'ed and dropped from
the page cache (posix_fadvise DONTNEED), so a reader after this script reads from the disk.

    make_synthetic_hf.py OUT_DIR --preset llama3-8b --dtype f32     # ~32 GB
    make_synthetic_hf.py OUT_DIR --preset tiny-spm  --dtype bf16    # vocab 32000, a few MB
"""
import argparse
import json
import os
import struct

import numpy as np

PRESETS = {
    # Llama-3-8B shapes (rope_scaling null, as Llama 3.0).
    "llama3-8b": dict(hidden=4096, ffn=14336, layers=32, heads=32, kv=8, vocab=128256,
                      ctx=8192, theta=500000.0),
    # Llama-2-7B shapes.
    "llama2-7b": dict(hidden=4096, ffn=11008, layers=32, heads=32, kv=32, vocab=32000,
                      ctx=4096, theta=10000.0),
    # For the CLI test: a few hundred KB.
    "micro": dict(hidden=64, ffn=128, layers=2, heads=4, kv=2, vocab=256, ctx=64, theta=10000.0),
    # Small, with llama's SentencePiece vocabulary size (llama.cpp's ggml-vocab-llama-spm.gguf).
    "tiny-spm": dict(hidden=256, ffn=768, layers=4, heads=8, kv=4, vocab=32000, ctx=512,
                     theta=10000.0),
}


def tensors(p):
    h, f, kv = p["hidden"], p["ffn"], p["kv"] * (p["hidden"] // p["heads"])
    yield "model.embed_tokens.weight", (p["vocab"], h), 1.0
    for b in range(p["layers"]):
        q = f"model.layers.{b}."
        yield q + "input_layernorm.weight", (h,), None
        yield q + "self_attn.q_proj.weight", (h, h), h ** -0.5
        yield q + "self_attn.k_proj.weight", (kv, h), h ** -0.5
        yield q + "self_attn.v_proj.weight", (kv, h), h ** -0.5
        yield q + "self_attn.o_proj.weight", (h, h), h ** -0.5
        yield q + "post_attention_layernorm.weight", (h,), None
        yield q + "mlp.gate_proj.weight", (f, h), h ** -0.5
        yield q + "mlp.up_proj.weight", (f, h), h ** -0.5
        yield q + "mlp.down_proj.weight", (h, f), f ** -0.5
    yield "model.norm.weight", (h,), None
    yield "lm_head.weight", (p["vocab"], h), h ** -0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--preset", default="llama3-8b", choices=sorted(PRESETS))
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--shard-gb", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    p = PRESETS[a.preset]
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    pool_n = 16 << 20  # values
    pool = rng.uniform(-1.0, 1.0, pool_n).astype(np.float32)
    if a.dtype == "bf16":
        pool = (pool.view(np.uint32) >> 16).astype(np.uint16)  # truncation: finite, in range
    esize = 4 if a.dtype == "f32" else 2
    st_dtype = "F32" if a.dtype == "f32" else "BF16"

    # Group tensors into shards by size, in the order above.
    shards, cur, cur_bytes = [], [], 0
    limit = int(a.shard_gb * 1e9)
    for name, shape, scale in tensors(p):
        n = int(np.prod(shape)) * esize
        if cur and cur_bytes + n > limit:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, shape, scale))
        cur_bytes += n
    shards.append(cur)

    weight_map, total, offset_in_pool = {}, 0, 0
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, off = {"__metadata__": {"format": "pt"}}, 0
        for name, shape, _ in shard:
            n = int(np.prod(shape)) * esize
            header[name] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [off, off + n]}
            off += n
            weight_map[name] = fname
        hb = json.dumps(header).encode()
        hb += b" " * ((8 - len(hb) % 8) % 8)
        path = os.path.join(a.out, fname)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(hb)))
            f.write(hb)
            for name, shape, scale in shard:
                n = int(np.prod(shape))
                if scale is None:  # norms: near 1
                    f.write((np.ones(n, np.float32) if a.dtype == "f32"
                             else np.full(n, 0x3F80, np.uint16)).tobytes())
                    continue
                while n > 0:
                    take = min(n, pool_n - offset_in_pool)
                    f.write(pool[offset_in_pool:offset_in_pool + take].tobytes())
                    n -= take
                    offset_in_pool = (offset_in_pool + take + 4099) % pool_n
            f.flush()
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        total += off
        print(f"{fname}: {off / 1e9:.2f} GB", flush=True)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
           "hidden_size": p["hidden"], "intermediate_size": p["ffn"],
           "num_hidden_layers": p["layers"], "num_attention_heads": p["heads"],
           "num_key_value_heads": p["kv"], "vocab_size": p["vocab"],
           "max_position_embeddings": p["ctx"], "rms_norm_eps": 1e-5,
           "rope_theta": p["theta"], "tie_word_embeddings": False, "hidden_act": "silu",
           "torch_dtype": "float32" if a.dtype == "f32" else "bfloat16"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    print(f"total {total / 1e9:.2f} GB of tensors in {len(shards)} shards")


if __name__ == "__main__":
    main()
