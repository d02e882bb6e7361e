/*
 * Benchmark: synth time of the example app as a ratio to an empty stack's synth, both measured in
 * this run and in this process (interleaved, after a warm-up), so machine noise affects both alike.
 * Usage: npx projen bench [rounds]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import { MwaaMlopsExampleStack } from '../../examples/app';

const rounds = Number(process.argv[2] ?? 15);
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mwaa-bench-'));

function timeSynth(build: (app: App) => void): number {
  const app = new App({ outdir: fs.mkdtempSync(path.join(outRoot, 'a')) });
  const start = performance.now();
  build(app);
  app.synth();
  return performance.now() - start;
}

const empty = (app: App) => { new Stack(app, 'Empty'); };
const example = (app: App) => { new MwaaMlopsExampleStack(app, 'MwaaMlopsExample'); };

for (let i = 0; i < 3; i++) { timeSynth(empty); timeSynth(example); } // warm-up: module loading, JIT

const emptyMs: number[] = [];
const exampleMs: number[] = [];
for (let i = 0; i < rounds; i++) {
  emptyMs.push(timeSynth(empty));
  exampleMs.push(timeSynth(example));
}
fs.rmSync(outRoot, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = exampleMs.map((ms, i) => ms / emptyMs[i]);
console.log(`synth benchmark, ${rounds} interleaved rounds after 3 warm-up rounds (median, ms)`);
console.log(`  empty stack:     ${median(emptyMs).toFixed(1)}`);
console.log(`  example app:     ${median(exampleMs).toFixed(1)}`);
console.log(`  ratio example/empty: ${median(ratios).toFixed(1)}x (per-round ratios ${Math.min(...ratios).toFixed(1)}x to ${Math.max(...ratios).toFixed(1)}x)`);
