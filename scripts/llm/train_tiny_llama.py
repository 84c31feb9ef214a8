#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains a tiny Llama (HF LlamaForCausalLM semantics, plain torch) and exports it for pare's tests.

Corpus: the Debian package `fortunes` (fortune-mod 1:1.99.1-7.3, Debian bookworm), the English
data files in /usr/share/games/fortunes/ (every file except `ascii-art`, which is pictures, and
`translate-me`, which is not prose; the .dat index files and .u8 symlinks are skipped). The
fortunes are split at the `%` lines, stripped of trailing blanks with tabs expanded, shuffled with
a fixed seed and joined by blank lines; the last 5 % is held out.

Writes tests/data/llm/tiny/ (see the README there): tokenizer.model (SentencePiece BPE),
tokenizer_cases.json, config.json, tokenizer_config.json, model.safetensors (F16), tiny.gguf
(F16, llama.cpp's gguf-py writer, converted as convert_hf_to_gguf.py does), prompt_ids.npy,
logits.npy, greedy.json, heldout.txt, heldout_ppl.json, train_log.json.

Needs: /usr/bin/python3 with torch, numpy, sentencepiece (python3-sentencepiece), the `fortunes`
package; for the GGUF, llama.cpp's gguf-py on sys.path (--gguf-py DIR, or $GGUF_PY), e.g.
    git -C <llama.cpp repo> archive HEAD gguf-py | tar -x -C /tmp/g  -> --gguf-py /tmp/g/gguf-py

Usage:
    /usr/bin/python3 scripts/llm/train_tiny_llama.py            # everything (~13 min, 1 thread)
    /usr/bin/python3 scripts/llm/train_tiny_llama.py --reuse    # re-export from model.safetensors
Everything is deterministic (fixed seeds, one torch thread, deterministic algorithms).
"""

import argparse
import json
import math
import os
import random
import struct
import sys
import time
from pathlib import Path

# One thread: torch.set_num_threads does not reach the BLAS pool of Debian's torch build.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "llm" / "tiny"
FORTUNE_DIR = Path("/usr/share/games/fortunes")
FORTUNE_SKIP = {"ascii-art", "translate-me"}

# Model shape (HF config names).
CONFIG = dict(
    hidden_size=192,
    intermediate_size=512,
    num_attention_heads=6,
    num_key_value_heads=2,
    num_hidden_layers=4,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    vocab_size=2048,
    max_position_embeddings=256,
)
BOS, EOS, UNK = 1, 2, 0

# Training.
SEED = 1234
BATCH = 16
STEPS = 900
LR = 3e-3
WARMUP = 50
WEIGHT_DECAY = 0.1

# Perplexity: windows of the context length advancing by PPL_STRIDE (see README).
PPL_STRIDE = 128
HELDOUT_BYTES = 30000

GREEDY_TOKENS = 32

PROMPT = "The quick brown fox jumps over the lazy dog, and then it goes home to sleep."

TOKENIZER_CASES = [
    "Hello world",
    "hello",
    "The quick brown fox jumps over the lazy dog.",
    " leading space",
    "trailing space ",
    "multiple    spaces   between words",
    "line one\nline two\n\nline four",
    "tabs\tand\ttabs",
    "Numbers: 12345 and 3.14159 and 1,000,000",
    "2026-12-03T13:41:22Z",
    "Punctuation!? (parentheses) [brackets] {braces} \"quotes\" 'single' -- dashes...",
    "C++ code: int main() { return 0; }",
    "e-mail: someone@example.com, URL: https://example.com/a?b=c&d=e",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "emoji: \U0001f600\U0001f680 \u2764\ufe0f",
    "byte fallback: \u2603 \U0001d11e \u0fd5",
    "",
    " ",
    "\n",
    "A fortune a day keeps the doctor away.\n\t\t-- Anonymous",
    "ALL CAPS AND MiXeD cAsE",
]


# ----------------------------------------------------------------------------------------------
# Corpus and tokenizer


def load_corpus():
    files = sorted(
        p.name
        for p in FORTUNE_DIR.iterdir()
        if p.is_file() and not p.is_symlink() and p.suffix != ".dat" and p.name not in FORTUNE_SKIP
    )
    fortunes = []
    for name in files:
        text = (FORTUNE_DIR / name).read_text(encoding="utf-8")
        for chunk in text.split("\n%\n"):
            lines = [ln.expandtabs(8).rstrip() for ln in chunk.strip("\n%").split("\n")]
            body = "\n".join(lines).strip("\n")
            if body.strip():
                fortunes.append(body)
    random.Random(SEED).shuffle(fortunes)
    n_held = len(fortunes) // 20
    train, held = fortunes[:-n_held], fortunes[-n_held:]
    return files, "\n\n".join(train), "\n\n".join(held)


def train_tokenizer(train_text, workdir):
    import sentencepiece as spm

    corpus = workdir / "sp_train.txt"
    corpus.write_text(train_text, encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(workdir / "tokenizer"),
        model_type="bpe",
        vocab_size=CONFIG["vocab_size"],
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        character_coverage=0.9995,
        unk_id=UNK,
        bos_id=BOS,
        eos_id=EOS,
        pad_id=-1,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return (workdir / "tokenizer.model").read_bytes()


# ----------------------------------------------------------------------------------------------
# Model: HF LlamaForCausalLM semantics.


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return self.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(seq_len, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    pos = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["num_attention_heads"]
        self.n_kv = c["num_key_value_heads"]
        self.head_dim = c["hidden_size"] // self.n_head
        h = c["hidden_size"]
        self.q_proj = torch.nn.Linear(h, self.n_head * self.head_dim, bias=False)
        self.k_proj = torch.nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.v_proj = torch.nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.o_proj = torch.nn.Linear(self.n_head * self.head_dim, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # HF repeat_kv: kv head j serves query heads j*rep .. j*rep+rep-1.
        rep = self.n_head // self.n_kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        att = torch.softmax(att.float(), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, self.n_head * self.head_dim)
        return self.o_proj(y)


class MLP(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = torch.nn.Linear(h, i, bias=False)
        self.up_proj = torch.nn.Linear(h, i, bias=False)
        self.down_proj = torch.nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Inner(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class TinyLlama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Inner(c)
        self.lm_head = torch.nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.head_dim = c["hidden_size"] // c["num_attention_heads"]

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = rope_cos_sin(t, self.head_dim, self.c["rope_theta"])
        mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.model.norm(x)).float()


def init_weights(model):
    # HF LlamaPreTrainedModel._init_weights: N(0, 0.02) for linear and embedding, ones for norms.
    for name, p in model.named_parameters():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            torch.nn.init.ones_(p)
        else:
            torch.nn.init.normal_(p, mean=0.0, std=0.02)


# ----------------------------------------------------------------------------------------------
# Training and evaluation


def train(model, stream, log, steps):
    ctx = CONFIG["max_position_embeddings"]
    gen = torch.Generator().manual_seed(SEED)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=LR,
        betas=(0.9, 0.95),
    )
    data = torch.from_numpy(stream.astype(np.int64))
    t0 = time.time()
    model.train()
    for step in range(steps):
        lr = LR * min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * step / steps))
        lr = max(lr, LR * 0.05) if step >= WARMUP else lr
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, len(data) - ctx - 1, (BATCH,), generator=gen)
        batch = torch.stack([data[s : s + ctx + 1] for s in starts.tolist()])
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            el = time.time() - t0
            log.append({"step": step, "loss": round(loss.item(), 4), "lr": lr, "seconds": round(el, 1)})
            print(f"step {step:5d} loss {loss.item():.4f} lr {lr:.2e} {el:.0f}s", flush=True)
    return time.time() - t0


@torch.no_grad()
def perplexity(model, ids):
    """exp(mean NLL) of ids[1:], sliding windows of the context length advancing by PPL_STRIDE;
    each token is scored once, in the first window that contains it with at least
    min(position, ctx - PPL_STRIDE) tokens of context (the HF sliding-window procedure)."""
    ctx = CONFIG["max_position_embeddings"]
    n = len(ids)
    total, count, prev_end, begin = 0.0, 0, 0, 0
    while True:
        end = min(begin + ctx, n)
        window = torch.tensor(ids[begin:end], dtype=torch.int64)[None]
        logp = torch.log_softmax(model(window)[0].double(), dim=-1)
        first = max(prev_end, begin + 1)  # first scored position (absolute)
        for pos in range(first, end):
            total -= logp[pos - begin - 1, ids[pos]].item()
            count += 1
        prev_end = end
        if end == n:
            break
        begin += PPL_STRIDE
    return math.exp(total / count), total / count, count


@torch.no_grad()
def mean_loss(model, stream, n_windows=64):
    """Mean next-token loss over n_windows evenly spaced full context windows of stream."""
    ctx = CONFIG["max_position_embeddings"]
    starts = np.linspace(0, len(stream) - ctx - 1, n_windows).astype(np.int64)
    tot = 0.0
    for s in starts:
        w = torch.from_numpy(stream[s : s + ctx + 1].astype(np.int64))[None]
        tot += F.cross_entropy(model(w[:, :-1])[0], w[0, 1:]).item()
    return tot / n_windows


# ----------------------------------------------------------------------------------------------
# Export


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype("<f2"): "F16", np.dtype("<f4"): "F32"}[arr.dtype]
        blob = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4"}[info["dtype"]]
        out[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=dt).reshape(info["shape"])
    return out


def hf_config():
    c = dict(CONFIG)
    c.update(
        architectures=["LlamaForCausalLM"],
        model_type="llama",
        tie_word_embeddings=False,
        bos_token_id=BOS,
        eos_token_id=EOS,
        hidden_act="silu",
        torch_dtype="float16",
        attention_bias=False,
        mlp_bias=False,
        head_dim=CONFIG["hidden_size"] // CONFIG["num_attention_heads"],
        initializer_range=0.02,
        rope_scaling=None,
        use_cache=True,
    )
    return c


def permute(w, n_head, n_head_kv):
    # convert_hf_to_gguf.py LlamaModel.permute: HF rotate_half order -> GGML interleaved rope pairs.
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path, tensors16, out_dir, gguf_py):
    if gguf_py:
        sys.path.insert(0, str(gguf_py))
    try:
        import gguf
    except ImportError as e:
        print(f"skipping tiny.gguf: llama.cpp's gguf-py is not importable ({e}); pass --gguf-py DIR")
        return False
    import sentencepiece as spm

    c = CONFIG
    w = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    # Model.set_gguf_parameters + LlamaModel.set_gguf_parameters
    w.add_name("Tiny Llama (pare test model)")
    w.add_block_count(c["num_hidden_layers"])
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(c["num_attention_heads"])
    w.add_head_count_kv(c["num_key_value_heads"])
    w.add_rope_freq_base(c["rope_theta"])
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    head_dim = c["hidden_size"] // c["num_attention_heads"]
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_vocab_size(c["vocab_size"])
    w.add_rope_dimension_count(head_dim)

    # Model._set_vocab_sentencepiece / _create_vocab_sentencepiece
    sp = spm.SentencePieceProcessor(model_file=str(out_dir / "tokenizer.model"))
    T = gguf.TokenType  # same values as convert_hf_to_gguf.SentencePieceTokenTypes
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        kind = T.NORMAL
        if sp.IsUnknown(i):
            kind = T.UNKNOWN
        elif sp.IsControl(i):
            kind = T.CONTROL
        elif sp.IsUnused(i):
            kind = T.UNUSED
        elif sp.IsByte(i):
            kind = T.BYTE
        tokens.append(sp.IdToPiece(i).encode("utf-8"))
        scores.append(sp.GetScore(i))
        types.append(kind)
    assert len(tokens) == c["vocab_size"]
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    special = gguf.SpecialVocab(out_dir, n_vocab=len(tokens))  # reads config.json, tokenizer_config.json
    special.add_to_gguf(w)
    # A HF llama folder names <unk> in tokenizer.json, from which SpecialVocab takes its id; this
    # folder has no tokenizer.json, so the id comes from the SentencePiece model.
    w.add_unk_token_id(sp.unk_id())

    # LlamaModel.modify_tensors + Model.prepare_tensors (MOSTLY_F16: 1-D tensors stay F32).
    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    }
    for i in range(c["num_hidden_layers"]):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    for hf_name, arr in tensors16.items():
        data = arr
        if hf_name.endswith("q_proj.weight"):
            data = permute(data, c["num_attention_heads"], c["num_attention_heads"])
        elif hf_name.endswith("k_proj.weight"):
            data = permute(data, c["num_attention_heads"], c["num_key_value_heads"])
        data = np.ascontiguousarray(data.astype(np.float32) if data.ndim == 1 else data.astype(np.float16))
        w.add_tensor(names[hf_name], data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return True


def check_gguf(path, gguf_py):
    if gguf_py:
        sys.path.insert(0, str(gguf_py))
    from gguf import GGUFReader

    r = GGUFReader(str(path))
    print(f"gguf check: {len(r.tensors)} tensors, {len(r.fields)} fields")
    for t in r.tensors[:4]:
        print(f"  {t.name} {t.tensor_type.name} {list(t.shape)}")
    for key in ("general.architecture", "llama.block_count", "llama.attention.head_count_kv",
                "tokenizer.ggml.model", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token"):
        f = r.fields[key]
        v = f.parts[f.data[0]]
        print(f"  {key} = {bytes(v).decode() if f.types[0].name == 'STRING' else v.tolist()}")
    return r


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reuse", action="store_true", help="skip training; load OUT/model.safetensors")
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY"), help="llama.cpp gguf-py directory")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--work", default="/tmp/train_tiny_llama")
    ap.add_argument("--steps", type=int, default=STEPS, help="for smoke runs only")
    args = ap.parse_args()
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    import sentencepiece as spm

    files, train_text, held_text = load_corpus()
    print(f"corpus: {len(files)} files, train {len(train_text)} chars, held-out {len(held_text)} chars")

    if not args.reuse:
        (out / "tokenizer.model").write_bytes(train_tokenizer(train_text, work))
    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    assert sp.vocab_size() == CONFIG["vocab_size"]
    assert (sp.unk_id(), sp.bos_id(), sp.eos_id()) == (UNK, BOS, EOS)

    cases = [{"text": s, "ids": sp.encode(s)} for s in TOKENIZER_CASES]
    (out / "tokenizer_cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "config.json").write_text(json.dumps(hf_config(), indent=2) + "\n")
    tok_cfg = {
        "tokenizer_class": "LlamaTokenizer",
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "model_max_length": CONFIG["max_position_embeddings"],
        "legacy": True,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2) + "\n")

    train_stream = np.array([BOS] + sp.encode(train_text), dtype=np.int32)
    held_stream = np.array([BOS] + sp.encode(held_text), dtype=np.int32)
    print(f"tokens: train {len(train_stream)}, held-out {len(held_stream)}")

    model = TinyLlama(CONFIG)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")
    log, seconds = [], 0.0
    if args.reuse:
        st = read_safetensors(out / "model.safetensors")
        model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in st.items()})
        prev = json.loads((out / "train_log.json").read_text())
        log, seconds = prev["loss_curve"], prev["train_seconds"]
    else:
        init_weights(model)
        seconds = train(model, train_stream, log, args.steps)

    # Round to f16; the reference below runs in f32 on exactly these rounded weights.
    tensors16 = {k: v.detach().to(torch.float16).numpy() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for k, p in model.state_dict().items():
            p.copy_(torch.from_numpy(tensors16[k].astype(np.float32)))
    model.eval()
    write_safetensors(out / "model.safetensors", tensors16, {"format": "pt"})
    back = read_safetensors(out / "model.safetensors")
    assert all(np.array_equal(back[k], tensors16[k]) for k in tensors16)

    prompt = np.array([BOS] + sp.encode(PROMPT), dtype=np.int32)
    np.save(out / "prompt_ids.npy", prompt)
    with torch.no_grad():
        logits = model(torch.from_numpy(prompt.astype(np.int64))[None])[0].numpy().astype(np.float32)
    np.save(out / "logits.npy", logits)

    # Greedy continuation, each step a full forward of the whole sequence (no cache), so a
    # decoder with a KV cache is checked against plain recomputation.
    seq, margins = [int(i) for i in prompt], []
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            last = model(torch.tensor(seq, dtype=torch.int64)[None])[0, -1]
            top2 = torch.topk(last, 2).values
            margins.append((top2[0] - top2[1]).item())
            seq.append(int(last.argmax()))
    greedy = {
        "prompt_ids": [int(i) for i in prompt],
        "generated_ids": seq[len(prompt) :],
        "generated_text": sp.decode(seq[len(prompt) :]),
        "min_top1_top2_logit_margin": min(margins),
        "top1_top2_logit_margins": [round(m, 6) for m in margins],
    }
    text = "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in greedy.items())
    (out / "greedy.json").write_text(text + "\n}\n", encoding="utf-8")
    print(f"greedy: {greedy['generated_text']!r} (smallest top-2 margin {min(margins):.4f})")

    # Held-out text for perplexity: whole fortunes from the held-out split, up to HELDOUT_BYTES.
    held_pieces, size = [], 0
    for f in held_text.split("\n\n"):
        if size + len(f.encode("utf-8")) + 2 > HELDOUT_BYTES:
            break
        held_pieces.append(f)
        size += len(f.encode("utf-8")) + 2
    heldout = "\n\n".join(held_pieces) + "\n"
    (out / "heldout.txt").write_text(heldout, encoding="utf-8")
    ppl_ids = [BOS] + sp.encode(heldout)
    ppl, nll, count = perplexity(model, ppl_ids)
    ppl_info = {
        "perplexity": ppl,
        "mean_nll": nll,
        "tokens": len(ppl_ids),
        "predicted_tokens": count,
        "context": CONFIG["max_position_embeddings"],
        "stride": PPL_STRIDE,
        "procedure": "ids = [BOS] + sp.encode(heldout.txt contents); windows ids[b:b+context] for "
        "b = 0, stride, 2*stride, ... until a window reaches the end; in each window the "
        "positions p (absolute, p >= 1) not scored by an earlier window are scored with "
        "-log softmax(logits[p-b-1])[ids[p]]; perplexity = exp(sum / predicted_tokens); f32 "
        "forward on the f16-rounded weights, log-softmax in f64",
    }
    (out / "heldout_ppl.json").write_text(json.dumps(ppl_info, indent=2) + "\n")
    print(f"held-out perplexity {ppl:.4f} (mean nll {nll:.4f} over {count} tokens)")

    train_loss = mean_loss(model, train_stream)
    held_loss = mean_loss(model, held_stream)
    print(f"f16-rounded model: train loss {train_loss:.4f}, held-out loss {held_loss:.4f}")
    (out / "train_log.json").write_text(
        json.dumps(
            {
                "parameters": n_params,
                "train_seconds": round(seconds, 1),
                "steps": args.steps,
                "batch": BATCH,
                "train_tokens": int(len(train_stream)),
                "heldout_split_tokens": int(len(held_stream)),
                "final_train_loss": round(train_loss, 4),
                "final_heldout_loss": round(held_loss, 4),
                "corpus_files": files,
                "loss_curve": log,
            },
            indent=1,
        )
        + "\n"
    )

    if write_gguf(out / "tiny.gguf", tensors16, out, args.gguf_py):
        check_gguf(out / "tiny.gguf", args.gguf_py)


if __name__ == "__main__":
    main()
