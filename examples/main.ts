/*
 * The main job: synthesizes the example app on its defaults (no AWS account or credentials needed),
 * runs cdk-nag over it, and prints a one-screen summary. Exits non-zero on unacknowledged findings.
 */
import * as path from 'path';
import { createExampleApp } from './app';
import { nagFindings } from '../test/nag';

const app = createExampleApp();
const assembly = app.synth();
const findings = nagFindings(app);

const lines: string[] = [`cloud assembly: ${path.relative(process.cwd(), assembly.directory) || '.'}`];
for (const stack of assembly.stacks) {
  const resources: Record<string, { Type: string }> = stack.template.Resources ?? {};
  const counts = new Map<string, number>();
  for (const r of Object.values(resources)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  lines.push('', `stack ${stack.stackName}: ${Object.keys(resources).length} resources (${stack.templateFile})`);
  for (const [type, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${String(n).padStart(3)}  ${type}`);
  }
  const outputs = Object.keys(stack.template.Outputs ?? {});
  lines.push(`  outputs: ${outputs.join(', ') || '(none)'}`);
}
lines.push('', `cdk-nag AwsSolutions + MWAA logging: ${findings.length} unacknowledged finding(s)`);
for (const f of findings) lines.push(`  ${f}`);
console.log(lines.join('\n'));
process.exitCode = findings.length === 0 ? 0 : 1;
