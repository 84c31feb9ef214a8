#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes the expected pre-tokenizer splits (gpt2-splits.txt, llama3-splits.txt) of the .inp test
# strings and some more, with the third-party `regex` module (Debian's python3-regex) running the
# original regexes of GPT-2 and of llama 3's tokenizer.json: an implementation independent of
# pare's and llama.cpp's hand-written matchers. One line per string: its pieces, each as hex
# UTF-8, separated by spaces (the string is their concatenation).
#     /usr/bin/python3 tests/data/llm/vocab/make_splits.py
import os
import regex

here = os.path.dirname(os.path.abspath(__file__))
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

with open(os.path.join(here, "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8") as f:
    texts = f.read().split("\n__ggml_vocab_test__\n")
texts = [t for t in texts]
texts += [
    "I'M HERE, YOU'RE THERE; WE'LL SEE. It'S 'Ll",
    "x  \n\n  y\r\n\tz \u00a0 \u3000w",
    "1234567 12 3 4,5.6e7 \u0661\u0662\u0663\u0664 \u2167\u2168",
    "don't   stop!!!\n\n\n...  ?? \u2014 \u00bfqu\u00e9?",
    "\u4f60\u597d\u4e16\u754c\uff0c\u3053\u3093\u306b\u3061\u306f \ud55c\uad6d\uc5b4 \u0645\u0631\u062d\u0628\u0627",
    "   trailing spaces   ",
    "a'b 'c'' '' 'd 'll've're",
    "\U0001F600\U0001F601 e\u0301 \u00e9 \u0915\u093e",
]

for name, pat in (("gpt2", GPT2), ("llama3", LLAMA3)):
    with open(os.path.join(here, name + "-splits.txt"), "w", encoding="ascii") as out:
        for t in texts:
            pieces = regex.findall(pat, t)
            assert "".join(pieces) == t, (name, t)
            out.write(" ".join(p.encode("utf-8").hex() for p in pieces) + "\n")
