import {
  dollars, estimateIdleCost, formatIdleCost, formatRunCost, formatSideBySide, RunTask, serverlessRunCost, Template,
} from './cost-estimate';

export interface NamedTemplate {
  readonly name: string;
  readonly template: Template;
}

/**
 * The two stacks to compare: the first with an MWAA environment (the bare pipeline comes first), and the first with
 * MWAA Serverless workflows and no environment (the example app's serverless stack, once examples/app.ts has one).
 */
export function pickStacks(stacks: NamedTemplate[]): { provisioned?: NamedTemplate; serverless?: NamedTemplate } {
  const has = (s: NamedTemplate, type: string) => Object.values(s.template.Resources ?? {}).some((r) => r.Type === type);
  return {
    provisioned: stacks.find((s) => has(s, 'AWS::MWAA::Environment')),
    serverless: stacks.find((s) => has(s, 'AWS::MWAAServerless::Workflow') && !has(s, 'AWS::MWAA::Environment')),
  };
}

/**
 * The assumed runs of the serverless workflows, task by task: the tasks of the definitions
 * (src/serverless/private/definitions.ts; cost-estimate.test.ts holds the two lists equal). A step submits its job and
 * returns; the sensor after it is billed while the job runs (the jobs' own costs are the same in both modes and not
 * counted here).
 */
export const ASSUMED_TRAINING_RUN: RunTask[] = [
  { task: 'resolve_run', minutes: 0.2 },
  { task: 'preprocess', minutes: 0.2 },
  { task: 'wait_for_preprocessing (Glue job)', minutes: 8 },
  { task: 'start_training', minutes: 0.2 },
  { task: 'wait_for_training (SageMaker job)', minutes: 20 },
  { task: 'train', minutes: 0.2 },
  { task: 'evaluate', minutes: 0.2 },
  { task: 'wait_for_evaluation (processing job)', minutes: 6 },
  { task: 'quality_gate', minutes: 0.2 },
  { task: 'register', minutes: 0.5 },
  { task: 'start_deployment (automatic approval only)', minutes: 0.2 },
];
export const ASSUMED_DEPLOYMENT_RUN: RunTask[] = [
  { task: 'resolve_package', minutes: 0.2 },
  { task: 'create_model', minutes: 0.5 },
  { task: 'create_endpoint_config', minutes: 0.5 },
  { task: 'deploy_endpoint', minutes: 0.2 },
  { task: 'wait_for_endpoint (create or blue/green update)', minutes: 10 },
  { task: 'verify_endpoint', minutes: 0.2 },
];

/** What a bare serverless pipeline may cost per month while idle, before an endpoint is deployed (issue 19). */
export const SERVERLESS_IDLE_TARGET_USD = 5;

/** The idle cost side by side, each stack's lines, and the per-run cost of the assumed runs. */
export function costReport(stacks: { provisioned?: NamedTemplate; serverless?: NamedTemplate }, region: string): string[] {
  const provisioned = stacks.provisioned && estimateIdleCost(stacks.provisioned.template, region);
  const serverless = stacks.serverless && estimateIdleCost(stacks.serverless.template, region);
  const out = [`idle monthly cost, ${region}, list prices (test/bench/cost-prices.json), nothing running`, ''];
  out.push(...formatSideBySide([
    { name: 'provisioned', estimate: provisioned, missing: 'no stack with an AWS::MWAA::Environment' },
    { name: 'serverless', estimate: serverless, missing: 'no stack with AWS::MWAAServerless::Workflow and no environment yet (examples/app.ts)' },
  ]));
  for (const [label, stack, estimate] of [['provisioned', stacks.provisioned, provisioned], ['serverless', stacks.serverless, serverless]] as const) {
    if (stack && estimate) out.push('', `${label}: stack ${stack.name}`, ...formatIdleCost(estimate));
  }
  if (serverless) {
    const verdict = serverless.totalUsd <= SERVERLESS_IDLE_TARGET_USD ? 'within' : 'OVER';
    out.push('', `serverless idle total ${dollars(serverless.totalUsd)}/month: ${verdict} the ${dollars(SERVERLESS_IDLE_TARGET_USD)} target`
      + ` (${serverless.lines.map((l) => `${l.category.toLowerCase()} ${dollars(l.monthlyUsd)}`).join(', ')})`);
  }
  out.push('', 'per run on MWAA Serverless (assumed durations; the Glue and SageMaker jobs themselves cost the same in both modes):');
  out.push(...formatRunCost('training run', ASSUMED_TRAINING_RUN, serverlessRunCost(ASSUMED_TRAINING_RUN, region)).map((l) => `  ${l}`));
  out.push(...formatRunCost('deployment run', ASSUMED_DEPLOYMENT_RUN, serverlessRunCost(ASSUMED_DEPLOYMENT_RUN, region)).map((l) => `  ${l}`));
  return out;
}
