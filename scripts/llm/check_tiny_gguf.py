#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks tests/data/llm/tiny/tiny.gguf with llama.cpp's own gguf-py reader.

- lists the tensors (name, GGML type, shape) and the metadata;
- the vocabulary (tokens, scores, types, special ids) equals tokenizer.model's;
- every tensor equals its model.safetensors counterpart after undoing convert_hf_to_gguf's Q/K
  row permutation;
- a numpy forward in f64 written the way llama.cpp computes llama (rope on adjacent pairs of the
  permuted Q/K rows, GGML's "normal" rope mode) reproduces logits.npy.

Usage: /usr/bin/python3 scripts/llm/check_tiny_gguf.py --gguf-py DIR  (or $GGUF_PY)
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "tests" / "data" / "llm" / "tiny"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_tiny_llama import permute, read_safetensors  # noqa: E402


def field(r, key):
    f = r.fields[key]
    if f.types[0].name == "ARRAY":
        if f.types[1].name == "STRING":
            return [bytes(f.parts[i]) for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    v = f.parts[f.data[0]]
    return bytes(v).decode("utf-8") if f.types[0].name == "STRING" else v[0].item()


def rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def forward_ggml_style(t, ids, hp):
    """llama.cpp's llama graph in f64; t maps GGUF names to arrays shaped (rows, cols)."""
    n_head, n_kv, d = hp["n_head"], hp["n_kv"], hp["head_dim"]
    n = len(ids)
    x = t["token_embd.weight"][ids]
    inv = hp["base"] ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = np.arange(n)[:, None] * inv[None, :]  # [n, d/2]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rope(v):  # v [n, heads, d]; GGML normal mode rotates (v[2i], v[2i+1])
        a, b = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(hp["n_layer"]):
        p = f"blk.{i}."
        h = rms(x, t[p + "attn_norm.weight"], hp["eps"])
        q = rope((h @ t[p + "attn_q.weight"].T).reshape(n, n_head, d))
        k = rope((h @ t[p + "attn_k.weight"].T).reshape(n, n_kv, d))
        v = (h @ t[p + "attn_v.weight"].T).reshape(n, n_kv, d)
        out = np.empty((n, n_head, d))
        for hd in range(n_head):
            kv = hd // (n_head // n_kv)
            s = q[:, hd] @ k[:, kv].T / np.sqrt(d) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, hd] = (s / s.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + out.reshape(n, n_head * d) @ t[p + "attn_output.weight"].T
        h = rms(x, t[p + "ffn_norm.weight"], hp["eps"])
        g = h @ t[p + "ffn_gate.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ t[p + "ffn_up.weight"].T)) @ t[p + "ffn_down.weight"].T
    return rms(x, t["output_norm.weight"], hp["eps"]) @ t["output.weight"].T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY"))
    ap.add_argument("--dir", default=str(DIR))
    args = ap.parse_args()
    if args.gguf_py:
        sys.path.insert(0, args.gguf_py)
    from gguf import GGUFReader
    import sentencepiece as spm

    d = Path(args.dir)
    r = GGUFReader(str(d / "tiny.gguf"))
    print(f"{len(r.tensors)} tensors:")
    for t in r.tensors:
        print(f"  {t.name:28s} {t.tensor_type.name:4s} ne={list(map(int, t.shape))}")
    print("metadata:")
    for key in r.fields:
        if key.startswith("GGUF."):
            continue
        v = field(r, key)
        print(f"  {key} = {v if not isinstance(v, list) else f'[{len(v)} items] {v[:4]}...'}")

    sp = spm.SentencePieceProcessor(model_file=str(d / "tokenizer.model"))
    toks, scores, types = (field(r, "tokenizer.ggml." + k) for k in ("tokens", "scores", "token_type"))
    assert toks == [sp.id_to_piece(i).encode("utf-8") for i in range(sp.vocab_size())]
    assert np.array_equal(np.float32(scores), np.float32([sp.get_score(i) for i in range(sp.vocab_size())]))
    assert types[:3] == [2, 3, 3] and types[3:259] == [6] * 256 and set(types[259:]) == {1}
    assert (field(r, "tokenizer.ggml.unknown_token_id"), field(r, "tokenizer.ggml.bos_token_id"),
            field(r, "tokenizer.ggml.eos_token_id")) == (0, 1, 2)
    assert field(r, "tokenizer.ggml.add_bos_token") is True
    print("vocabulary: equal to tokenizer.model")

    cfg = json.loads((d / "config.json").read_text())
    hp = dict(n_head=field(r, "llama.attention.head_count"), n_kv=field(r, "llama.attention.head_count_kv"),
              n_layer=field(r, "llama.block_count"), eps=field(r, "llama.attention.layer_norm_rms_epsilon"),
              base=field(r, "llama.rope.freq_base"))
    hp["head_dim"] = field(r, "llama.embedding_length") // hp["n_head"]
    assert hp["head_dim"] == field(r, "llama.rope.dimension_count")
    assert (hp["n_head"], hp["n_kv"], hp["n_layer"]) == (
        cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"])

    gg = {t.name: np.array(t.data) for t in r.tensors}
    st = read_safetensors(d / "model.safetensors")
    rename = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
              "lm_head.weight": "output.weight"}
    sub = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
           "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for i in range(hp["n_layer"]):
        for a, b in sub.items():
            rename[f"model.layers.{i}.{a}.weight"] = f"blk.{i}.{b}.weight"
    assert set(rename) == set(st) and set(rename.values()) == set(gg)
    for hf, name in rename.items():
        want = st[hf]
        if hf.endswith("q_proj.weight"):
            want = permute(want, hp["n_head"], hp["n_head"])
        elif hf.endswith("k_proj.weight"):
            want = permute(want, hp["n_head"], hp["n_kv"])
        got = gg[name]
        assert got.dtype == (np.float32 if want.ndim == 1 else np.float16), name
        assert np.array_equal(got.astype(np.float32), want.astype(np.float32)), name
    print("tensors: equal to model.safetensors (Q/K permuted as convert_hf_to_gguf does)")

    ids = np.load(d / "prompt_ids.npy").astype(np.int64)
    ref = np.load(d / "logits.npy")
    logits = forward_ggml_style({k: v.astype(np.float64) for k, v in gg.items()}, ids, hp)
    err = np.abs(logits - ref).max()
    print(f"GGML-style f64 forward vs logits.npy: max abs difference {err:.3g} "
          f"(logits range {ref.min():.2f} .. {ref.max():.2f})")
    assert err < 1e-4


if __name__ == "__main__":
    main()
