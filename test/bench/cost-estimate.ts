/*
 * Idle cost of a synthesized CloudFormation template: what its resources cost per month with nothing running (no DAG
 * run, no build, no request, no data), at list prices from cost-prices.json. Also the per-run cost of an MWAA
 * Serverless workflow run. Used by `npx projen bench` and by the example summary (`npx projen synth:example`); it is
 * not part of the library, and its prices are estimates with their sources and confidence in cost-prices.json.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The price table: a data file, so that a price changes without touching code. */
const PRICE_TABLE = JSON.parse(fs.readFileSync(path.join(__dirname, 'cost-prices.json'), 'utf8'));

export type Confidence = '3P' | 'INFERRED' | 'UNVERIFIED' | 'UNKNOWN';

interface PriceEntry {
  readonly what: string;
  readonly unit: 'hour' | 'month' | 'task-hour';
  readonly usd: Record<string, number>;
  readonly confidence: Record<string, string>;
  readonly date: string;
  readonly source: string;
  readonly note?: string;
}

const PRICES = PRICE_TABLE.prices as unknown as Record<string, PriceEntry>;
export const HOURS_PER_MONTH: number = PRICE_TABLE.hoursPerMonth;
/** The region whose figures the others fall back to: the one most figures were read for. */
const FALLBACK_REGION = 'us-west-2';

/** A price for a region: the region's own figure, or us-west-2's, saying so. */
export interface Price {
  readonly id: string;
  readonly what: string;
  readonly unit: PriceEntry['unit'];
  readonly usd: number;
  readonly region: string;
  readonly confidence: Confidence;
  /** Set when the region has no figure of its own and us-west-2's stands in. */
  readonly fellBackFrom?: string;
  readonly source: string;
  readonly date: string;
  readonly note?: string;
}

export function price(id: string, region: string): Price {
  const entry = PRICES[id];
  if (!entry) throw new Error(`no price '${id}' in cost-prices.json`);
  const own = entry.usd[region];
  const base = { id, what: entry.what, unit: entry.unit, source: entry.source, date: entry.date, note: entry.note };
  if (own !== undefined) {
    return { ...base, usd: own, region, confidence: (entry.confidence[region] ?? 'UNVERIFIED') as Confidence };
  }
  const fallback = entry.usd[FALLBACK_REGION];
  if (fallback === undefined) throw new Error(`no price '${id}' for ${region} or ${FALLBACK_REGION}`);
  return { ...base, usd: fallback, region: FALLBACK_REGION, confidence: 'INFERRED', fellBackFrom: region };
}

/** Every price id in the table (for its tests). */
export function priceIds(): string[] {
  return Object.keys(PRICES);
}

/** One priced line: `count` of something at `unitUsd` each per hour or month. */
export interface CostLine {
  /** What the line groups, the same across stacks (e.g. 'KMS keys'), so estimates can be set side by side. */
  readonly category: string;
  /** What was counted, in words. */
  readonly what: string;
  readonly resourceType: string;
  readonly logicalIds: string[];
  readonly count: number;
  readonly price: Price;
  readonly monthlyUsd: number;
}

export interface IdleCostEstimate {
  readonly region: string;
  readonly hoursPerMonth: number;
  readonly lines: CostLine[];
  readonly totalUsd: number;
  /** Resource types known to cost nothing while idle (billed by use or storage only), with how many and why. */
  readonly zeroAtIdle: Array<{ resourceType: string; count: number; why: string }>;
  /** Resource types the estimator does not know: counted nowhere, listed so that nobody takes the total as complete. */
  readonly unknown: Array<{ resourceType: string; count: number }>;
  /** What the estimate assumed about a resource whose setting was not a literal. */
  readonly assumptions: string[];
}

/** Resource types that cost nothing while nothing runs: billed per use, per request or per GB stored. */
const ZERO_AT_IDLE: Record<string, string> = Object.fromEntries(([
  ['free', [
    'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::InstanceProfile', 'AWS::EC2::VPC', 'AWS::EC2::Subnet',
    'AWS::EC2::RouteTable', 'AWS::EC2::Route', 'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::InternetGateway',
    'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress',
    'AWS::S3::BucketPolicy', 'AWS::Logs::ResourcePolicy', 'AWS::Lambda::Permission', 'AWS::Lambda::EventInvokeConfig',
    'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::KMS::Alias', 'AWS::Glue::SecurityConfiguration', 'AWS::CDK::Metadata',
    'AWS::CodeStarConnections::Connection', 'AWS::CodeConnections::Connection',
  ]],
  ['log ingestion and storage, by traffic', ['AWS::EC2::FlowLog']],
  ['storage and requests', ['AWS::S3::Bucket']],
  ['ingestion and storage', ['AWS::Logs::LogGroup']],
  ['its custom metric is billed only in hours it reports', ['AWS::Logs::MetricFilter']],
  ['requests and duration', ['AWS::Lambda::Function']],
  ['storage (tiny)', ['AWS::Lambda::LayerVersion']],
  ['free (SQS polling is the queue\'s requests)', ['AWS::Lambda::EventSourceMapping']],
  ['publishes and deliveries', ['AWS::SNS::Topic', 'AWS::SNS::Subscription']],
  ['requests', ['AWS::SQS::Queue']],
  ['AWS service events are free to match; custom events per million', ['AWS::Events::Rule']],
  ['image storage ($0.10/GB-month)', ['AWS::ECR::Repository']],
  ['build minutes', ['AWS::CodeBuild::Project']],
  ['active users beyond 5 free', ['AWS::CodeCommit::Repository']],
  ['DPU-hours of runs', ['AWS::Glue::Job']],
  ['free (model artifacts are S3 storage)', ['AWS::SageMaker::ModelPackageGroup']],
  ['task-hours of runs (see the per-run cost)', ['AWS::MWAAServerless::Workflow']],
  ['its Lambda, at deploy time', ['AWS::CloudFormation::CustomResource']],
] as Array<[string, string[]]>).flatMap(([why, types]) => types.map((type) => [type, why])));

/** A CloudFormation template, as synthesized. */
export interface Template {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, any> }>;
}

export function estimateIdleCost(template: Template, region: string = 'us-east-1'): IdleCostEstimate {
  const lines: CostLine[] = [];
  const zero = new Map<string, number>();
  const unknown = new Map<string, number>();
  const assumptions: string[] = [];
  const groups = new Map<string, { category: string; what: string; resourceType: string; priceId: string; logicalIds: string[]; count: number }>();
  const add = (category: string, what: string, resourceType: string, priceId: string, logicalId: string, count: number) => {
    if (count <= 0) return;
    const key = `${category}|${what}|${priceId}`;
    const group = groups.get(key) ?? { category, what, resourceType, priceId, logicalIds: [], count: 0 };
    group.logicalIds.push(logicalId);
    group.count += count;
    groups.set(key, group);
  };

  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::MWAA::Environment': {
        const cls: string = literal<string>(props.EnvironmentClass, 'mw1.small', `${id} EnvironmentClass`, assumptions);
        const micro = cls === 'mw1.micro';
        add('MWAA environment', `MWAA environment ${cls}`, resource.Type, `mwaa.environment.${cls}`, id, 1);
        // The environment fee includes 1 worker, 2 schedulers and 2 web servers (mw1.micro: one of each, fixed).
        if (!micro) {
          const schedulers = literal<number>(props.Schedulers, 2, `${id} Schedulers`, assumptions);
          const workers = literal<number>(props.MinWorkers, 1, `${id} MinWorkers`, assumptions);
          const webservers = literal<number>(props.MinWebservers, 2, `${id} MinWebservers`, assumptions);
          add('MWAA environment', `MWAA scheduler beyond 2 (${cls})`, resource.Type, `mwaa.scheduler.${cls}`, id, schedulers - 2);
          add('MWAA environment', `MWAA worker kept by MinWorkers beyond 1 (${cls})`, resource.Type, `mwaa.worker.${cls}`, id, workers - 1);
          add('MWAA environment', `MWAA web server beyond 2 (${cls})`, resource.Type, `mwaa.webserver.${cls}`, id, webservers - 2);
        }
        break;
      }
      case 'AWS::EC2::NatGateway':
        // A private NAT gateway has no public address but the same hourly fee.
        add('NAT gateways and public IPv4', 'NAT gateway', resource.Type, 'vpc.nat-gateway', id, 1);
        break;
      case 'AWS::EC2::EIP':
        add('NAT gateways and public IPv4', 'Elastic IP (public IPv4)', resource.Type, 'vpc.public-ipv4', id, 1);
        break;
      case 'AWS::EC2::VPCEndpoint': {
        const type = props.VpcEndpointType ?? 'Gateway';
        if (type === 'Gateway') {
          zero.set('AWS::EC2::VPCEndpoint (Gateway)', (zero.get('AWS::EC2::VPCEndpoint (Gateway)') ?? 0) + 1);
          break;
        }
        let azs = Array.isArray(props.SubnetIds) ? props.SubnetIds.length : undefined;
        if (azs === undefined) {
          azs = 2;
          assumptions.push(`${id}: SubnetIds is not a literal list; counted as 2 AZs`);
        }
        add('Interface VPC endpoints', `${type} VPC endpoint, per AZ`, resource.Type, 'vpc.interface-endpoint-az', id, azs);
        break;
      }
      case 'AWS::KMS::Key':
        add('KMS keys', 'KMS customer managed key', resource.Type, 'kms.key', id, 1);
        break;
      case 'AWS::CloudWatch::Alarm': {
        const { metrics, highResolution } = alarmMetrics(props);
        add('CloudWatch alarms', highResolution ? 'alarm metric, high resolution' : 'alarm metric, standard resolution', resource.Type,
          highResolution ? 'cloudwatch.alarm.high-resolution' : 'cloudwatch.alarm.standard', id, metrics);
        break;
      }
      case 'AWS::CloudWatch::CompositeAlarm':
        add('CloudWatch alarms', 'composite alarm', resource.Type, 'cloudwatch.alarm.composite', id, 1);
        break;
      case 'AWS::CloudWatch::Dashboard':
        add('CloudWatch dashboards', 'dashboard (the account\'s first 3 are free: not deducted)', resource.Type, 'cloudwatch.dashboard', id, 1);
        break;
      case 'AWS::SecretsManager::Secret':
        add('Secrets', 'Secrets Manager secret', resource.Type, 'secretsmanager.secret', id, 1);
        break;
      case 'AWS::CodePipeline::Pipeline':
        // PipelineType defaults to V1 in CloudFormation; V2 is billed per action-minute only.
        if ((props.PipelineType ?? 'V1') === 'V1') {
          add('CodePipeline', 'CodePipeline V1 pipeline', resource.Type, 'codepipeline.v1', id, 1);
        } else {
          zero.set('AWS::CodePipeline::Pipeline (V2)', (zero.get('AWS::CodePipeline::Pipeline (V2)') ?? 0) + 1);
        }
        break;
      default:
        if (resource.Type in ZERO_AT_IDLE || resource.Type.startsWith('Custom::')) {
          zero.set(resource.Type, (zero.get(resource.Type) ?? 0) + 1);
        } else {
          unknown.set(resource.Type, (unknown.get(resource.Type) ?? 0) + 1);
        }
    }
  }

  for (const group of groups.values()) {
    if (!(group.priceId in PRICES)) {
      // e.g. an environment class newer than the table: listed, never silently priced at $0.
      const type = `${group.resourceType} (${group.what}: no price '${group.priceId}')`;
      unknown.set(type, (unknown.get(type) ?? 0) + group.count);
      continue;
    }
    const p = price(group.priceId, region);
    const perMonth = p.unit === 'hour' ? p.usd * HOURS_PER_MONTH : p.usd;
    lines.push({ ...group, price: p, monthlyUsd: round(perMonth * group.count) });
  }
  lines.sort((a, b) => b.monthlyUsd - a.monthlyUsd || a.what.localeCompare(b.what));
  return {
    region,
    hoursPerMonth: HOURS_PER_MONTH,
    lines,
    totalUsd: round(lines.reduce((sum, line) => sum + line.monthlyUsd, 0)),
    zeroAtIdle: [...zero.entries()].map(([resourceType, count]) => ({ resourceType, count, why: zeroReason(resourceType) }))
      .sort((a, b) => b.count - a.count || a.resourceType.localeCompare(b.resourceType)),
    unknown: [...unknown.entries()].map(([resourceType, count]) => ({ resourceType, count }))
      .sort((a, b) => b.count - a.count || a.resourceType.localeCompare(b.resourceType)),
    assumptions,
  };
}

function zeroReason(resourceType: string): string {
  if (resourceType === 'AWS::EC2::VPCEndpoint (Gateway)') return 'gateway endpoints are free';
  if (resourceType === 'AWS::CodePipeline::Pipeline (V2)') return 'per action-minute, $0 idle';
  return ZERO_AT_IDLE[resourceType] ?? 'a custom resource: its Lambda, at deploy time';
}

/** An alarm is billed per metric it reads (expressions are free); a period under 60 s is high resolution. */
function alarmMetrics(props: Record<string, any>): { metrics: number; highResolution: boolean } {
  if (Array.isArray(props.Metrics)) {
    const stats = props.Metrics.filter((m: any) => m.MetricStat !== undefined);
    const highResolution = stats.some((m: any) => typeof m.MetricStat.Period === 'number' && m.MetricStat.Period < 60);
    // Anomaly detection bands bill 3 metrics for each one they read.
    const anomaly = props.ThresholdMetricId !== undefined ? 3 : 1;
    return { metrics: Math.max(1, stats.length) * anomaly, highResolution };
  }
  return { metrics: 1, highResolution: typeof props.Period === 'number' && props.Period < 60 };
}

function literal<T extends string | number>(value: unknown, fallback: T, what: string, assumptions: string[]): T {
  if (value === undefined) return fallback;
  if (typeof value === typeof fallback) return value as T;
  assumptions.push(`${what} is not a literal; assumed ${fallback}`);
  return fallback;
}

/** Splits a long list at its commas into lines of at most `width` characters. */
function wrap(text: string, indent: string, width: number = 140): string[] {
  const out: string[] = [];
  let line = '';
  for (const part of text.split(', ')) {
    const next = line === '' ? part : `${line}, ${part}`;
    if (line !== '' && indent.length + next.length > width) {
      out.push(`${indent}${line},`);
      line = `  ${part}`;
    } else {
      line = next;
    }
  }
  if (line !== '') out.push(`${indent}${line}`);
  return out;
}

function round(usd: number): number {
  return Math.round(usd * 100) / 100;
}

export function dollars(value: number): string {
  return `$${value.toFixed(2)}`;
}

function rate(p: Price): string {
  const unit = p.unit === 'hour' ? `/h x ${HOURS_PER_MONTH} h` : p.unit === 'task-hour' ? '/task-hour' : '/month';
  return `$${p.usd}${unit}`;
}

function confidence(p: Price): string {
  return p.fellBackFrom ? `${p.confidence}: ${p.fellBackFrom} not found, ${p.region}'s price` : p.confidence;
}

/**
 * The estimate as lines of text: the total, each priced line with its arithmetic, then what was not priced. `brief`
 * counts the resources free at idle instead of listing them.
 */
export function formatIdleCost(estimate: IdleCostEstimate, indent: string = '  ', brief: boolean = false): string[] {
  const out = [`${indent}idle cost: ${dollars(estimate.totalUsd)}/month (${estimate.region}, list prices, ${estimate.hoursPerMonth} h/month, no free tier)`];
  for (const line of estimate.lines) {
    out.push(`${indent}  ${dollars(line.monthlyUsd).padStart(9)}  ${line.count} x ${line.what} @ ${rate(line.price)} [${confidence(line.price)}]`);
  }
  if (brief) {
    const count = estimate.zeroAtIdle.reduce((sum, z) => sum + z.count, 0);
    out.push(`${indent}  $0 while idle: ${count} resources of ${estimate.zeroAtIdle.length} types, billed by use or storage (each: npx projen bench:cost)`);
  } else if (estimate.zeroAtIdle.length > 0) {
    out.push(...wrap(`$0 while idle: ${estimate.zeroAtIdle.map((z) => `${z.count} ${z.resourceType}`).join(', ')}`, `${indent}  `));
  }
  out.push(`${indent}  not priced (unknown to the estimator): ${estimate.unknown.map((u) => `${u.count} ${u.resourceType}`).join(', ') || 'none'}`);
  for (const assumption of estimate.assumptions) out.push(`${indent}  assumed: ${assumption}`);
  return out;
}

/** Two or more estimates side by side, one row per category, then each one's total. */
export function formatSideBySide(columns: Array<{ name: string; estimate?: IdleCostEstimate; missing?: string }>): string[] {
  const categories: string[] = [];
  for (const column of columns) {
    for (const line of column.estimate?.lines ?? []) if (!categories.includes(line.category)) categories.push(line.category);
  }
  const width = Math.max(28, ...categories.map((c) => c.length));
  const colWidth = Math.max(14, ...columns.map((c) => c.name.length));
  const cell = (column: (typeof columns)[number], category?: string) => {
    if (!column.estimate) return 'n/a'.padStart(colWidth);
    const sum = column.estimate.lines.filter((l) => category === undefined || l.category === category).reduce((s, l) => s + l.monthlyUsd, 0);
    return dollars(round(sum)).padStart(colWidth);
  };
  const out = [`${''.padEnd(width)}  ${columns.map((c) => c.name.padStart(colWidth)).join('  ')}`];
  for (const category of categories) out.push(`${category.padEnd(width)}  ${columns.map((c) => cell(c, category)).join('  ')}`);
  out.push(`${'idle total per month'.padEnd(width)}  ${columns.map((c) => cell(c)).join('  ')}`);
  for (const column of columns) {
    if (!column.estimate) {
      out.push(`${column.name}: ${column.missing ?? 'no template'}`);
    } else if (column.estimate.unknown.length > 0) {
      out.push(`${column.name}: not priced (unknown): ${column.estimate.unknown.map((u) => `${u.count} ${u.resourceType}`).join(', ')}`);
    }
  }
  return out;
}

/** One task of a workflow run: how long it runs, in minutes (billed per second, at least a minute). */
export interface RunTask {
  readonly task: string;
  readonly minutes: number;
}

export interface RunCost {
  readonly billedMinutes: number;
  readonly taskHours: number;
  readonly price: Price;
  readonly usd: number;
}

/** What one MWAA Serverless run costs: the sum over its tasks of max(1 minute, duration), in task-hours, times the price. */
export function serverlessRunCost(tasks: RunTask[], region: string = 'us-east-1'): RunCost {
  for (const t of tasks) {
    if (!Number.isFinite(t.minutes) || t.minutes < 0) throw new Error(`task ${t.task}: ${t.minutes} minutes is not a duration`);
  }
  const billedMinutes = tasks.reduce((sum, t) => sum + Math.max(1, t.minutes), 0);
  const p = price('mwaa-serverless.task-hour', region);
  const taskHours = billedMinutes / 60;
  return { billedMinutes, taskHours, price: p, usd: taskHours * p.usd };
}

export function formatRunCost(name: string, tasks: RunTask[], cost: RunCost): string[] {
  return [
    `${name}: ${tasks.map((t) => `${t.task} ${t.minutes} min`).join(', ')}`,
    `  billed: ${tasks.map((t) => Math.max(1, t.minutes)).join(' + ')} = ${cost.billedMinutes} task-minutes (1-minute minimum per task)`
      + ` = ${cost.taskHours.toFixed(3)} task-hours x $${cost.price.usd}/task-hour [${confidence(cost.price)}] = $${cost.usd.toFixed(4)} per run`,
  ];
}
