#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Plots digits accuracy against sparsity for each pruning criterion, from the CSV that
# bench/prune_accuracy.cpp prints:
#
#   build/release/bench/pare_prune_accuracy > prune_accuracy.csv
#   /usr/bin/python3 scripts/plot_prune_accuracy.py prune_accuracy.csv docs/img/prune_accuracy.svg
import csv
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "pare"  # stable element ids: same CSV, same file
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    rows = list(csv.DictReader(open(src)))
    dense = next(float(r["accuracy"]) for r in rows if r["criterion"] == "dense")
    criteria = []
    for r in rows:
        if r["criterion"] != "dense" and r["criterion"] not in criteria:
            criteria.append(r["criterion"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, finetuned, title in ((axes[0], "0", "one-shot, no retraining"),
                                 (axes[1], "1", "with fine-tuning (20 epochs, masks kept)")):
        for i, c in enumerate(criteria):
            pts = sorted((float(r["sparsity"]), 100 * float(r["accuracy"])) for r in rows
                         if r["criterion"] == c and r["pattern"] == "unstructured"
                         and r["finetuned"] == finetuned)
            nm = [100 * float(r["accuracy"]) for r in rows if r["criterion"] == c
                  and r["pattern"] == "2:4" and r["finetuned"] == finetuned]
            color = colors[i % len(colors)]
            ax.plot([p[0] * 100 for p in pts], [p[1] for p in pts], "o-", color=color, label=c)
            if nm:
                ax.plot([50], nm, "s", color=color, markerfacecolor="none", markersize=9)
        ax.axhline(100 * dense, color="gray", linestyle="--", linewidth=1)
        ax.axhline(100 * dense - 1, color="gray", linestyle=":", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel("sparsity of every Linear layer (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("digits test accuracy (%)")
    axes[1].legend(loc="lower left", fontsize=8,
                   title="dashed: dense; dotted: dense − 1 pt; □: 2:4", title_fontsize=7)
    fig.suptitle("pare pruning criteria on the digits MLP 64-128-64-10")
    fig.tight_layout()
    fig.savefig(dst, metadata={"Date": None})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
