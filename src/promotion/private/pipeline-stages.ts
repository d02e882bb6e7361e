import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  STAGE_NAME, STAGE_NAME_MAX, stageDeployRoleName, stageEndpointName, stageKeyAlias, stageModelRoleName, stageRollbackAlarmNames,
} from './stage-names';
import { EndpointDeployment, EndpointKind } from '../../ml/endpoint-deployment';
import { validateNumber } from '../../private/validate-number';
import { DeploymentStage, PromotionGate } from '../deployment-stage';

/** The most stages a pipeline takes (the config's limit, config.py). */
export const MAX_STAGES = 5;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** A stage with every default applied and every name derived. */
export interface ResolvedStage {
  readonly name: string;
  /** The stage's account (the pipeline stack's own, possibly a token, when the stage names none). */
  readonly account: string;
  readonly region: string;
  /** In the pipeline's own account and region: the pipeline creates the stage's PromotionTarget itself. */
  readonly local: boolean;
  readonly deployment: EndpointDeployment;
  /** The gate to the next stage (none on the last). */
  readonly gate?: PromotionGate;
  readonly checks: { readonly sampleRows: number; readonly maxErrorRate: number; readonly maxLatencyMs: number };
  readonly deployRoleArn: string;
  readonly modelRoleArn: string;
  readonly keyAliasArn: string;
  readonly endpointName: string;
  readonly rollbackAlarmNames: string[];
}

/** Validates the stages (each error names the prop, the value and what is allowed) and derives their names. */
export function resolveStages(scope: Construct, pipelineName: string, stages: DeploymentStage[]): ResolvedStage[] {
  if (stages.length < 1 || stages.length > MAX_STAGES) {
    throw new Error(`stages: ${stages.length} stages are not allowed; give 1 to ${MAX_STAGES} (or leave stages out for one endpoint in the pipeline's account)`);
  }
  const stack = Stack.of(scope);
  const seen = new Set<string>();
  return stages.map((stage, index) => {
    const where = `stages[${index}]`;
    validateStageName(where, stage.name);
    if (seen.has(stage.name)) throw new Error(`${where}.name: '${stage.name}' is used by an earlier stage; each stage needs its own name`);
    seen.add(stage.name);
    const last = index === stages.length - 1;
    if (last && stage.gate !== undefined) {
      throw new Error(`${where}.gate: '${stage.name}' is the last stage, so no gate follows it; drop gate (or add the stage it leads to)`);
    }
    if (stage.account !== undefined && (Token.isUnresolved(stage.account) || !ACCOUNT.test(stage.account))) {
      throw new Error(`${where}.account: '${stage.account}' is not allowed; use a literal 12-digit AWS account id (both accounts derive their names from it at synth)`);
    }
    if (stage.region !== undefined && (Token.isUnresolved(stage.region) || !REGION.test(stage.region))) {
      throw new Error(`${where}.region: '${stage.region}' is not allowed; use a literal region name such as 'eu-west-1'`);
    }
    const deployment = stage.deployment ?? EndpointDeployment.realTime();
    if (deployment.kind === EndpointKind.NONE) {
      throw new Error(`${where}.deployment: EndpointDeployment.none() is not allowed for stage '${stage.name}'; a stage deploys an endpoint (use realTime() or serverless())`);
    }
    const checks = resolveChecks(`${where}.checks`, stage);
    const account = stage.account ?? stack.account;
    const region = stage.region ?? stack.region;
    const local = sameValue(account, stack.account) && sameValue(region, stack.region);
    const arn = (service: string, inRegion: string, resource: string) => `arn:${Aws.PARTITION}:${service}:${inRegion}:${account}:${resource}`;
    return {
      name: stage.name,
      account,
      region,
      local,
      deployment,
      gate: last ? undefined : stage.gate ?? PromotionGate.MANUAL,
      checks,
      deployRoleArn: arn('iam', '', `role/${stageDeployRoleName(pipelineName, stage.name)}`),
      modelRoleArn: arn('iam', '', `role/${stageModelRoleName(pipelineName, stage.name)}`),
      keyAliasArn: arn('kms', region, stageKeyAlias(pipelineName, stage.name)),
      endpointName: stageEndpointName(pipelineName, stage.name),
      rollbackAlarmNames: deployment.kind === EndpointKind.REAL_TIME ? stageRollbackAlarmNames(pipelineName, stage.name) : [],
    };
  });
}

/** The lifecycle statuses a deployment run sets on each stage (the IAM conditions of its UpdateModelPackage grants). */
export function statusesSetByRuns(stages: ResolvedStage[]): Map<string, string[]> {
  const statuses = new Map<string, string[]>(stages.map((s) => [s.name, ['Rejected']]));
  stages.forEach((stage, index) => {
    const next = stages[index + 1];
    if (next) statuses.get(next.name)!.push(stage.gate === PromotionGate.AUTOMATIC ? 'Approved' : 'PendingApproval');
    else statuses.get(stage.name)!.push('Deployed');
  });
  return statuses;
}

/** The accounts other than the pipeline's that hold a stage, each with its stages. */
export function remoteAccounts(scope: Construct, stages: ResolvedStage[]): Map<string, ResolvedStage[]> {
  const own = Stack.of(scope).account;
  const accounts = new Map<string, ResolvedStage[]>();
  for (const stage of stages) {
    if (sameValue(stage.account, own)) continue;
    accounts.set(stage.account, [...accounts.get(stage.account) ?? [], stage]);
  }
  return accounts;
}

function validateStageName(where: string, name: string): void {
  if (Token.isUnresolved(name) || !STAGE_NAME.test(name) || name.length > STAGE_NAME_MAX) {
    throw new Error(
      `${where}.name: '${name}' is not allowed; use lowercase letters, digits and single hyphens, starting with a letter, ` +
      `at most ${STAGE_NAME_MAX} characters (it is the model registry's lifecycle stage and names the stage's endpoint and roles)`,
    );
  }
}

function resolveChecks(prop: string, stage: DeploymentStage) {
  const sampleRows = stage.checks?.sampleRows ?? 20;
  validateNumber(`${prop}.sampleRows`, sampleRows, { min: 1, max: 1000, wholeNumber: true });
  const maxErrorRate = stage.checks?.maxErrorRate ?? 0;
  validateNumber(`${prop}.maxErrorRate`, maxErrorRate, { min: 0, max: 1 });
  const maxLatencyMs = (stage.checks?.maxAverageLatency ?? Duration.seconds(1)).toMilliseconds();
  validateNumber(`${prop}.maxAverageLatency`, maxLatencyMs, { min: 1, max: 60000, wholeNumber: true, unit: 'ms' });
  return { sampleRows, maxErrorRate, maxLatencyMs };
}

/** Equal strings; a token only equals itself (an environment-agnostic stack's account is not any literal account). */
function sameValue(a: string, b: string): boolean {
  return a === b;
}
