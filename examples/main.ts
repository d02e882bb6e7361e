/*
 * The main job: synthesizes the example app on its defaults (no AWS account or credentials needed),
 * runs cdk-nag over it, and prints a one-screen summary: what each pipeline deploys, then each stack's
 * resources and what they cost per month while idle (test/bench/cost-estimate.ts; region COST_REGION, default
 * us-east-1). Exits non-zero on unacknowledged findings.
 */
import * as path from 'path';
import { IConstruct } from 'constructs';
import { createExampleApp } from './app';
import { stackSummary } from './summary';
import { AirflowEnvironment, MwaaMlopsPipeline } from '../src';
import { nagFindings } from '../test/nag';

const app = createExampleApp();
const assembly = app.synth();
const findings = nagFindings(app);

/** What one pipeline deploys, in the words of its parts. */
function describe(p: MwaaMlopsPipeline): string[] {
  const env = p.environment;
  const w = p.workflow;
  const created = env instanceof AirflowEnvironment && env.node.scope === p;
  const envText = !env
    ? `MWAA Serverless, workflows ${[w.trainingWorkflow, w.deploymentWorkflow].filter(Boolean).map((x) => x!.node.path).join(', ')}`
    : env instanceof AirflowEnvironment
      ? `${created ? 'own' : `shared (${env.node.path})`} MWAA ${env.environmentClass.name}, Airflow ${env.airflowVersion}`
      : `imported MWAA ${env.environmentName}`;
  const rules = p.trigger.rules.map((rule) => (rule.node.defaultChild as IConstruct & { description?: string }).description);
  return [
    `pipeline ${p.pipelineName} (${p.node.path})`,
    `  runs on:     ${envText}`,
    `  source:      ${p.modelBuild.sourceRepository ? `CodeCommit ${p.modelBuild.sourceRepository.node.path}` : 'external (CodeConnections or S3)'} -> CodePipeline V2 -> ECR`,
    `  DAGs:        ${w.trainingDagId}${w.deploymentDagId ? `, ${w.deploymentDagId}` : ''}`,
    `  approval:    ${w.approval}; deployment: ${w.stageNames.length > 0 ? `stages ${w.stageNames.join(' -> ')}` : w.deployment}`,
    ...(w.driftAlarm ? [`  drift:       ${w.driftDagId ?? w.driftWorkflow?.node.path}, alarm ${w.driftAlarm.node.path}${w.retrainOnDrift ? ' starts training' : ''}`] : []),
    '  triggers:',
    ...rules.map((description) => `    ${description}`),
    `  monitoring:  ${p.monitoring.alarms.length} alarms, ${p.monitoring.rules.length} rules, one topic`,
  ];
}

const lines: string[] = [`cloud assembly: ${path.relative(process.cwd(), assembly.directory) || '.'}`];
const pipelines = app.node.findAll().filter((c): c is MwaaMlopsPipeline => c instanceof MwaaMlopsPipeline);
for (const pipeline of pipelines) lines.push('', ...describe(pipeline));
for (const stack of assembly.stacks) {
  lines.push('', ...stackSummary(stack.stackName, stack.templateFile, stack.template));
}
lines.push('', `cdk-nag AwsSolutions + MWAA logging: ${findings.length} unacknowledged finding(s)`);
for (const f of findings) lines.push(`  ${f}`);
console.log(lines.join('\n'));
process.exitCode = findings.length === 0 ? 0 : 1;
