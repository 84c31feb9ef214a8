#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns scripts/serve/bench-server.sh's CSV into a markdown table (stdout) and an SVG bar chart
of throughput with p99 latency written over each bar (no plotting library needed).
Usage: plot_serving.py serving.csv serving.svg "caption\""""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
caption = sys.argv[3] if len(sys.argv) > 3 else ""
names = {"mlp.onnx": "float32", "mlp-int8.pare": "int8", "mlp-int4.pare": "int4 g32"}

print("| model | workers | batching | requests/s | p50 ms | p99 ms | non-200 |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {names.get(r['model'], r['model'])} | {r['workers']} | {r['batching']} | "
          f"{float(r['requests_per_s']):.0f} | {float(r['p50_ms']):.2f} | "
          f"{float(r['p99_ms']):.2f} | {r['errors']} |")

W, H, left, top, bottom = 900, 420, 70, 40, 90
plot_h = H - top - bottom
top_rps = max(float(r["requests_per_s"]) for r in rows) * 1.15
bar_w = (W - left - 20) / len(rows)
colors = {"off": "#c9d6e3", "greedy": "#2b6cb0", "wait2ms": "#7fa7d1"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
       f'font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">pare_server throughput '
       f'(bars, requests/s) and p99 latency (labels)</text>',
       f'<text x="{W / 2}" y="32" text-anchor="middle" fill="#555">{caption}</text>']
for i in range(6):
    v = top_rps * i / 5
    y = top + plot_h - plot_h * i / 5
    svg.append(f'<line x1="{left}" x2="{W - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')
for k, r in enumerate(rows):
    rps = float(r["requests_per_s"])
    h = plot_h * rps / top_rps
    x = left + k * bar_w + 4
    y = top + plot_h - h
    svg.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 8:.1f}" height="{h:.1f}" '
               f'fill="{colors[r["batching"]]}"/>')
    svg.append(f'<text x="{x + (bar_w - 8) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
               f'{float(r["p99_ms"]):.1f} ms</text>')
    svg.append(f'<text x="{x + (bar_w - 8) / 2:.1f}" y="{top + plot_h + 14}" '
               f'text-anchor="middle" font-size="9">{r["workers"]}w</text>')
    if k % 6 == 0:
        svg.append(f'<text x="{x + 3 * bar_w - 4:.1f}" y="{top + plot_h + 32}" '
                   f'text-anchor="middle" font-weight="bold">'
                   f'{names.get(r["model"], r["model"])}</text>')
legend = [("off", "no batching"), ("greedy", "greedy: what is queued, up to 32 rows"),
          ("wait2ms", "wait up to 2 ms for 32 rows")]
for i, (key, text) in enumerate(legend):
    lx = left + i * 250
    svg.append(f'<rect x="{lx}" y="{H - 30}" width="12" height="12" fill="{colors[key]}"/>'
               f'<text x="{lx + 16}" y="{H - 20}">{text}</text>')
svg.append(f'<text x="{left}" y="{H - 4}" fill="#555">w = model workers, each on 1 pare '
           f'thread; labels: p99 latency</text>')
svg.append("</svg>")
open(sys.argv[2], "w").write("\n".join(svg) + "\n")
