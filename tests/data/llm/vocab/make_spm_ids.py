#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes spm-random.inp / spm-random.out: pseudo-random strings and the ids Google's SentencePiece
# (Debian's python3-sentencepiece) gives them with the LLaMA vocabulary of
# ggml-vocab-llama-spm.gguf, rebuilt as a SentencePiece BPE model (identity normalizer, dummy
# prefix, byte fallback: LLaMA's settings). Same layout as llama.cpp's .inp / .out files.
#     /usr/bin/python3 tests/data/llm/vocab/make_spm_ids.py <llama.cpp's gguf-py directory>
import os
import random
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

sys.path.insert(0, sys.argv[1])
from gguf import GGUFReader  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
r = GGUFReader(os.path.join(here, "ggml-vocab-llama-spm.gguf"))


def array(key):
    f = r.fields[key]
    return [f.parts[i] for i in f.data]


tokens = [bytes(p).decode("utf-8") for p in array("tokenizer.ggml.tokens")]
scores = [float(p[0]) for p in array("tokenizer.ggml.scores")]
types = [int(p[0]) for p in array("tokenizer.ggml.token_type")]

m = pb.ModelProto()
m.trainer_spec.model_type = pb.TrainerSpec.BPE
m.trainer_spec.byte_fallback = True
m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id, m.trainer_spec.pad_id = 0, 1, 2, -1
m.normalizer_spec.name = "identity"
m.normalizer_spec.add_dummy_prefix = True
m.normalizer_spec.remove_extra_whitespaces = False
m.normalizer_spec.escape_whitespaces = True
for t, s, ty in zip(tokens, scores, types):
    p = m.pieces.add()
    p.piece, p.score, p.type = t, s, ty
sp = spm.SentencePieceProcessor(model_proto=m.SerializeToString())

with open(os.path.join(here, "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8") as f:
    words = f.read().replace("\n__ggml_vocab_test__\n", " ").split(" ")
words = [w for w in words if w] + ["the", "quick", "Über", "naïve", "日本語", "🦙", "\t", "\n", "  "]
rng = random.Random(1)
texts = []
for _ in range(300):
    n = rng.randint(1, 40)
    texts.append("".join(rng.choice(words) + rng.choice([" ", " ", " ", "  ", "", "\n"]) for _ in range(n)))

with open(os.path.join(here, "spm-random.inp"), "w", encoding="utf-8") as f:
    f.write("\n__ggml_vocab_test__\n".join(texts) + "\n__ggml_vocab_test__\n")
with open(os.path.join(here, "spm-random.out"), "w", encoding="ascii") as f:
    for t in texts:
        f.write(" " + " ".join(str(i) for i in sp.encode(t)) + "\n")
