// SPDX-License-Identifier: Apache-2.0
// Times an ONNX model in ONNX Runtime (npm onnxruntime-node, CPU) on one intra-op thread, the peer
// pare's graph runtime is compared with. Prints one JSON line: the median, min and max of REPS
// timed runs after WARMUP untimed ones, and the first output (for checking against pare).
//   node time_model.js MODEL.onnx INPUT.npy [REPS=20] [WARMUP=3] [THREADS=1]
// The input is a little-endian float32 .npy (C order), fed to the model's first input.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpyF32(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = b.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${path}: need float32 '<f4', got ${header}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim())
                    .map((s) => parseInt(s, 10));
  const n = shape.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; ++i) data[i] = b.readFloatLE(start + 4 * i);
  return {shape, data};
}

async function main() {
  const [model, input, reps = '20', warmup = '3', threads = '1'] = process.argv.slice(2);
  if (!model || !input) throw new Error('usage: node time_model.js MODEL.onnx INPUT.npy [REPS] [WARMUP] [THREADS]');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const x = readNpyF32(input);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
  let out;
  for (let i = 0; i < Number(warmup); ++i) out = await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(reps); ++i) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const y = out[session.outputNames[0]];
  console.log(JSON.stringify({
    peer: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`, threads: Number(threads),
    model, input: x.shape, median_ms: times[times.length >> 1], min_ms: times[0],
    max_ms: times[times.length - 1], output_shape: y.dims, output_head: Array.from(y.data.slice(0, 4))}));
}
main().catch((e) => { console.error(`time_model.js: ${e.message}`); process.exit(1); });
