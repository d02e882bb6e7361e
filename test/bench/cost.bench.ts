/*
 * Benchmark: the idle monthly cost of the provisioned and the serverless example stacks side by side, read from their
 * synthesized templates (test/bench/cost-estimate.ts, prices in test/bench/cost-prices.json), then the cost of a
 * serverless training and deployment run under a stated assumption.
 * Usage: npx projen bench:cost [region]   (default us-east-1; us-west-2 is where most prices were read)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { costReport, pickStacks } from './cost-report';
import { createExampleApp } from '../../examples/app';
import { MwaaMlopsPipeline } from '../../src';

const region = process.argv[2] ?? 'us-east-1';
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mwaa-cost-'));
try {
  process.env.CDK_OUTDIR = path.join(outdir, 'example');
  const example = createExampleApp().synth();
  // A bare pipeline, as `new MwaaMlopsPipeline(stack, 'Ml')` deploys it: the provisioned column.
  const bareApp = new App({ outdir: path.join(outdir, 'bare') });
  new MwaaMlopsPipeline(new Stack(bareApp, 'BarePipeline'), 'Ml');
  const bare = bareApp.synth().getStackByName('BarePipeline');
  const picked = pickStacks([bare, ...example.stacks].map((s) => ({ name: s.stackName, template: s.template })));
  console.log(costReport(picked, region).join('\n'));
} finally {
  fs.rmSync(outdir, { recursive: true, force: true });
}
