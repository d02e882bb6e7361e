/*
 * The main job: synthesizes the example app on its defaults (no AWS account or credentials needed),
 * runs cdk-nag over it, and prints a one-screen summary: what each pipeline deploys, then each stack's
 * resources. Exits non-zero on unacknowledged findings.
 */
import * as path from 'path';
import { IConstruct } from 'constructs';
import { createExampleApp } from './app';
import { AirflowEnvironment, MwaaMlopsPipeline } from '../src';
import { nagFindings } from '../test/nag';

const app = createExampleApp();
const assembly = app.synth();
const findings = nagFindings(app);

/** What one pipeline deploys, in the words of its parts. */
function describe(p: MwaaMlopsPipeline): string[] {
  const env = p.environment;
  const created = env instanceof AirflowEnvironment && env.node.scope === p;
  const envText = env instanceof AirflowEnvironment
    ? `${created ? 'own' : `shared (${env.node.path})`} MWAA ${env.environmentClass.name}, Airflow ${env.airflowVersion}`
    : `imported MWAA ${env.environmentName}`;
  const w = p.workflow;
  const rules = p.trigger.rules.map((rule) => (rule.node.defaultChild as IConstruct & { description?: string }).description);
  return [
    `pipeline ${p.pipelineName} (${p.node.path})`,
    `  environment: ${envText}`,
    `  source:      ${p.modelBuild.sourceRepository ? `CodeCommit ${p.modelBuild.sourceRepository.node.path}` : 'external (CodeConnections or S3)'} -> CodePipeline V2 -> ECR`,
    `  DAGs:        ${w.trainingDagId}${w.deploymentDagId ? `, ${w.deploymentDagId}` : ''}`,
    `  approval:    ${w.approval}; deployment: ${w.deployment}`,
    '  triggers:',
    ...rules.map((description) => `    ${description}`),
    `  monitoring:  ${p.monitoring.alarms.length} alarms, ${p.monitoring.rules.length} rules, one topic`,
  ];
}

const lines: string[] = [`cloud assembly: ${path.relative(process.cwd(), assembly.directory) || '.'}`];
const pipelines = app.node.findAll().filter((c): c is MwaaMlopsPipeline => c instanceof MwaaMlopsPipeline);
for (const pipeline of pipelines) lines.push('', ...describe(pipeline));
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
