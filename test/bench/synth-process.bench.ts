/*
 * Benchmark: a cold `synth` of the whole example app (both stacks) as its own process, against an app with one empty
 * stack started the same way, interleaved in this run; prints the median times, their ratio and the resource counts.
 * Usage: npx projen bench (rounds: SYNTH_PROCESS_ROUNDS, default 5)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';

const rounds = Number(process.env.SYNTH_PROCESS_ROUNDS ?? 5);
const root = path.join(__dirname, '..', '..');
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mwaa-bench-process-'));

function run(app: string): { ms: number; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(outRoot, 'a'));
  const start = performance.now();
  execFileSync('node', ['-r', 'ts-node/register/transpile-only', app], {
    cwd: root,
    env: { ...process.env, CDK_OUTDIR: outdir, TS_NODE_PROJECT: 'tsconfig.dev.json' },
    stdio: 'ignore',
  });
  return { ms: performance.now() - start, outdir };
}

function resourceCounts(outdir: string): Record<string, number> {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf-8'));
  const counts: Record<string, number> = {};
  for (const [name, artifact] of Object.entries<any>(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(fs.readFileSync(path.join(outdir, artifact.properties.templateFile), 'utf-8'));
    counts[name] = Object.keys(template.Resources ?? {}).length;
  }
  return counts;
}

const emptyMs: number[] = [];
const exampleMs: number[] = [];
let counts: Record<string, number> = {};
for (let i = 0; i < rounds; i++) {
  emptyMs.push(run('test/bench/empty-app.ts').ms);
  const example = run('examples/app.ts');
  exampleMs.push(example.ms);
  counts = resourceCounts(example.outdir);
}
fs.rmSync(outRoot, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`cold synth of the whole example app as a process, ${rounds} interleaved rounds (median, ms)`);
console.log(`  empty app:   ${median(emptyMs).toFixed(0)}`);
console.log(`  example app: ${median(exampleMs).toFixed(0)}`);
console.log(`  ratio example/empty: ${(median(exampleMs) / median(emptyMs)).toFixed(2)}x`);
console.log(`  resources: ${Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(', ')} (total ${Object.values(counts).reduce((a, b) => a + b, 0)})`);
