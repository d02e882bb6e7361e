import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { estimateIdleCost, formatIdleCost, price, priceIds, RunTask, serverlessRunCost } from './cost-estimate';
import { ASSUMED_DEPLOYMENT_RUN, ASSUMED_TRAINING_RUN, costReport, pickStacks } from './cost-report';
import { MwaaMlopsServerlessExampleStack } from '../../examples/app';
import { stackSummary } from '../../examples/summary';
import { ServerlessWorkflow } from '../../src';

const res = (Type: string, Properties: Record<string, any> = {}) => ({ Type, Properties });

/** One of each resource the estimator prices, plus some it knows to be free and one it does not know. */
const EVERYTHING = {
  Resources: {
    Env: res('AWS::MWAA::Environment', { EnvironmentClass: 'mw1.medium', Schedulers: 3, MinWorkers: 2, MinWebservers: 3 }),
    Nat: res('AWS::EC2::NatGateway'),
    Eip: res('AWS::EC2::EIP'),
    Interface: res('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] }),
    Gateway: res('AWS::EC2::VPCEndpoint', { ServiceName: 's3' }),
    Key1: res('AWS::KMS::Key'),
    Key2: res('AWS::KMS::Key'),
    Simple: res('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 300 }),
    Math: res('AWS::CloudWatch::Alarm', { Metrics: [{ Id: 'a', MetricStat: { Period: 300 } }, { Id: 'b', MetricStat: { Period: 300 } }, { Id: 'e', Expression: 'a+b' }] }),
    Fast: res('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 10 }),
    Composite: res('AWS::CloudWatch::CompositeAlarm'),
    Dashboard: res('AWS::CloudWatch::Dashboard'),
    Secret: res('AWS::SecretsManager::Secret'),
    V1: res('AWS::CodePipeline::Pipeline'),
    V2: res('AWS::CodePipeline::Pipeline', { PipelineType: 'V2' }),
    Workflow: res('AWS::MWAAServerless::Workflow'),
    Role: res('AWS::IAM::Role'),
    Custom: res('Custom::Anything'),
    Database: res('AWS::RDS::DBInstance'),
  },
};

function line(estimate: ReturnType<typeof estimateIdleCost>, what: string) {
  const found = estimate.lines.filter((l) => l.what === what);
  if (found.length !== 1) throw new Error(`expected one line '${what}', found ${estimate.lines.map((l) => l.what).join('; ')}`);
  return found[0];
}

describe('estimateIdleCost', () => {
  const estimate = estimateIdleCost(EVERYTHING, 'us-west-2');

  test.each([
    ['MWAA environment mw1.medium', 1, 540.2, ['Env']],
    ['MWAA scheduler beyond 2 (mw1.medium)', 1, 80.3, ['Env']],
    ['MWAA worker kept by MinWorkers beyond 1 (mw1.medium)', 1, 80.3, ['Env']],
    ['MWAA web server beyond 2 (mw1.medium)', 1, 40.15, ['Env']],
    ['NAT gateway', 1, 32.85, ['Nat']],
    ['Elastic IP (public IPv4)', 1, 3.65, ['Eip']],
    ['Interface VPC endpoint, per AZ', 2, 14.6, ['Interface']],
    ['KMS customer managed key', 2, 2, ['Key1', 'Key2']],
    ['alarm metric, standard resolution', 3, 0.3, ['Simple', 'Math']],
    ['alarm metric, high resolution', 1, 0.3, ['Fast']],
    ['composite alarm', 1, 0.5, ['Composite']],
    ['dashboard (the account\'s first 3 are free: not deducted)', 1, 3, ['Dashboard']],
    ['Secrets Manager secret', 1, 0.4, ['Secret']],
    ['CodePipeline V1 pipeline', 1, 1, ['V1']],
  ])('counts %s: %d, $%d a month', (what, count, monthly, logicalIds) => {
    expect(line(estimate, what)).toMatchObject({ count, monthlyUsd: monthly, logicalIds });
  });

  test('the total is the sum of the lines, and nothing else', () => {
    expect(estimate.totalUsd).toBe(799.55);
    expect(estimate.lines).toHaveLength(14);
  });

  test('free at idle and unknown resources are listed, not silently dropped', () => {
    expect(estimate.zeroAtIdle.map((z) => z.resourceType).sort()).toEqual([
      'AWS::CodePipeline::Pipeline (V2)', 'AWS::EC2::VPCEndpoint (Gateway)', 'AWS::IAM::Role', 'AWS::MWAAServerless::Workflow', 'Custom::Anything',
    ]);
    expect(estimate.unknown).toEqual([{ resourceType: 'AWS::RDS::DBInstance', count: 1 }]);
    const counted = estimate.lines.flatMap((l) => l.logicalIds);
    const all = Object.keys(EVERYTHING.Resources).length;
    expect(new Set(counted).size + estimate.zeroAtIdle.reduce((s, z) => s + z.count, 0) + estimate.unknown.length).toBe(all);
  });

  test('mw1.micro: one environment fee, its scheduler and web server included', () => {
    const micro = estimateIdleCost({ Resources: { Env: res('AWS::MWAA::Environment', { EnvironmentClass: 'mw1.micro', Schedulers: 1 }) } }, 'us-west-2');
    expect(micro.lines.map((l) => [l.what, l.monthlyUsd])).toEqual([['MWAA environment mw1.micro', 211.7]]);
  });

  test('defaults: mw1.small with 2 schedulers, 1 worker and 2 web servers costs the environment fee only', () => {
    const small = estimateIdleCost({ Resources: { Env: res('AWS::MWAA::Environment') } });
    expect(small.totalUsd).toBe(357.7);
  });

  test('a setting that is not a literal is assumed and said so', () => {
    const t = estimateIdleCost({ Resources: { Env: res('AWS::MWAA::Environment', { EnvironmentClass: { Ref: 'Class' }, MinWorkers: { Ref: 'W' } }) } });
    expect(t.assumptions).toEqual(['Env EnvironmentClass is not a literal; assumed mw1.small', 'Env MinWorkers is not a literal; assumed 1']);
    expect(formatIdleCost(t).join('\n')).toContain('assumed: Env EnvironmentClass is not a literal; assumed mw1.small');
  });

  test('an environment class the table lacks is listed as not priced', () => {
    const t = estimateIdleCost({ Resources: { Env: res('AWS::MWAA::Environment', { EnvironmentClass: 'mw2.huge' }) } });
    expect(t.totalUsd).toBe(0);
    expect(t.unknown).toEqual([{ resourceType: 'AWS::MWAA::Environment (MWAA environment mw2.huge: no price \'mwaa.environment.mw2.huge\')', count: 1 }]);
  });

  test('a region without its own figure takes us-west-2\'s and says so', () => {
    expect(price('mwaa-serverless.task-hour', 'us-east-1')).toMatchObject({ usd: 0.088, confidence: 'INFERRED', fellBackFrom: 'us-east-1', region: 'us-west-2' });
    expect(price('mwaa-serverless.task-hour', 'sa-east-1')).toMatchObject({ usd: 0.104, confidence: '3P' });
    expect(() => price('nothing', 'us-east-1')).toThrow(/no price 'nothing'/);
  });

  test('every price says where it comes from, when, and how sure we are for us-east-1 and us-west-2', () => {
    for (const id of priceIds()) {
      for (const region of ['us-east-1', 'us-west-2']) {
        const p = price(id, region);
        expect(p.source).toMatch(/https:\/\/|not found/);
        expect(p.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(['3P', 'INFERRED', 'UNVERIFIED', 'UNKNOWN']).toContain(p.confidence);
      }
    }
  });

  test('the text: the total, each line\'s arithmetic and confidence, the free and the unknown', () => {
    const text = formatIdleCost(estimate).join('\n');
    expect(text).toContain('idle cost: $799.55/month (us-west-2, list prices, 730 h/month, no free tier)');
    expect(text).toContain('$540.20  1 x MWAA environment mw1.medium @ $0.74/h x 730 h [3P]');
    expect(text).toContain('$2.00  2 x KMS customer managed key @ $1/month [3P]');
    expect(text).toMatch(/\$0 while idle: .*1 AWS::IAM::Role/s);
    expect(text).toContain('not priced (unknown to the estimator): 1 AWS::RDS::DBInstance');
  });
});

describe('serverlessRunCost', () => {
  test('each task is billed at least a minute; task-hours times the price', () => {
    const cost = serverlessRunCost([{ task: 'a', minutes: 0.2 }, { task: 'b', minutes: 8 }, { task: 'c', minutes: 20.5 }], 'us-west-2');
    expect(cost.billedMinutes).toBe(29.5);
    expect(cost.usd).toBeCloseTo((29.5 / 60) * 0.088, 10);
  });

  test('a negative duration is refused', () => {
    expect(() => serverlessRunCost([{ task: 'a', minutes: -1 }])).toThrow(/task a: -1 minutes is not a duration/);
  });
});

describe('the assumed runs', () => {
  test('are the tasks of the serverless example\'s definitions, in order', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cost-runs-')) });
    const stack = new MwaaMlopsServerlessExampleStack(app, 'Serverless');
    const assembly = app.synth().directory;
    /** The task ids of a workflow's definition, as the cloud assembly holds it (deploy-time values as markers). */
    const taskIds = (workflow: ServerlessWorkflow | undefined) => {
      const key: string = stack.resolve(workflow!.cfnWorkflow.definitionS3Location).objectKey;
      const dir = fs.readdirSync(assembly).find((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly, d, key)))!;
      const text = fs.readFileSync(path.join(assembly, dir, key), 'utf-8').replace(/"?<<marker:[^>]*>>"?/g, '"x"');
      return Object.keys((Object.values(JSON.parse(text))[0] as any).tasks);
    };
    const names = (run: RunTask[]) => run.map((t) => t.task.split(' ')[0]);
    // the example approves by hand; automatic approval adds start_deployment at the end
    expect(names(ASSUMED_TRAINING_RUN)).toEqual([...taskIds(stack.pipeline.workflow.trainingWorkflow), 'start_deployment']);
    expect(names(ASSUMED_DEPLOYMENT_RUN)).toEqual(taskIds(stack.pipeline.workflow.deploymentWorkflow));
  });
});

describe('the bench and the example summary print the estimate', () => {
  const provisioned = { name: 'Provisioned', template: { Resources: { Env: res('AWS::MWAA::Environment'), Key: res('AWS::KMS::Key') } } };
  const serverless = { name: 'Serverless', template: { Resources: { Wf: res('AWS::MWAAServerless::Workflow'), Key: res('AWS::KMS::Key') } } };

  test('pickStacks: the first with an environment, and the first with workflows and no environment', () => {
    const both = { name: 'Both', template: { Resources: { Env: res('AWS::MWAA::Environment'), Wf: res('AWS::MWAAServerless::Workflow') } } };
    expect(pickStacks([both, serverless, provisioned])).toEqual({ provisioned: both, serverless });
    expect(pickStacks([provisioned])).toEqual({ provisioned, serverless: undefined });
  });

  test('the bench: side by side per category, each stack\'s lines, and the assumed runs', () => {
    const text = costReport({ provisioned, serverless }, 'us-west-2').join('\n');
    expect(text).toMatch(/provisioned\s+serverless/);
    expect(text).toMatch(/MWAA environment\s+\$357\.70\s+\$0\.00/);
    expect(text).toMatch(/KMS keys\s+\$1\.00\s+\$1\.00/);
    expect(text).toMatch(/idle total per month\s+\$358\.70\s+\$1\.00/);
    expect(text).toContain('provisioned: stack Provisioned');
    expect(text).toContain('serverless: stack Serverless');
    expect(text).toContain('serverless idle total $1.00/month: within the $5.00 target (kms keys $1.00)');
    expect(text).toMatch(/training run: .*\n\s+billed: 1 \+ 1 \+ 8 \+ 1 \+ 20 \+ 1 \+ 1 \+ 6 \+ 1 \+ 1 \+ 1 = 42 task-minutes .* = \$0\.0616 per run/);
  });

  test('a serverless stack over the target is called out, with what costs what', () => {
    const heavy = { name: 'Heavy', template: { Resources: { ...serverless.template.Resources, Board: res('AWS::CloudWatch::Dashboard'), Key2: res('AWS::KMS::Key') } } };
    expect(costReport({ provisioned, serverless: heavy }, 'us-east-1').join('\n'))
      .toContain('serverless idle total $5.00/month: within the $5.00 target (cloudwatch dashboards $3.00, kms keys $2.00)');
    const heavier = { name: 'Heavier', template: { Resources: { ...heavy.template.Resources, Alarm: res('AWS::CloudWatch::Alarm') } } };
    expect(costReport({ provisioned, serverless: heavier }, 'us-east-1').join('\n'))
      .toContain('serverless idle total $5.10/month: OVER the $5.00 target (cloudwatch dashboards $3.00, kms keys $2.00, cloudwatch alarms $0.10)');
  });

  test('the bench without a serverless stack says so', () => {
    const text = costReport({ provisioned }, 'us-east-1').join('\n');
    expect(text).toMatch(/idle total per month\s+\$358\.70\s+n\/a/);
    expect(text).toContain('serverless: no stack with AWS::MWAAServerless::Workflow and no environment yet');
  });

  test('the summary of a stack: its resources by type, then its idle cost', () => {
    const template = { Resources: { ...provisioned.template.Resources, Role: res('AWS::IAM::Role') }, Outputs: { Url: {} } };
    const lines = stackSummary('Provisioned', 'cdk.out/Provisioned.template.json', template);
    expect(lines).toEqual([
      'stack Provisioned: 3 resources (cdk.out/Provisioned.template.json)',
      '    1  AWS::IAM::Role',
      '    1  AWS::KMS::Key',
      '    1  AWS::MWAA::Environment',
      '  outputs: Url',
      '  idle cost: $358.70/month (us-east-1, list prices, 730 h/month, no free tier)',
      '      $357.70  1 x MWAA environment mw1.small @ $0.49/h x 730 h [INFERRED]',
      '        $1.00  1 x KMS customer managed key @ $1/month [3P]',
      '    $0 while idle: 1 resources of 1 types, billed by use or storage (each: npx projen bench:cost)',
      '    not priced (unknown to the estimator): none',
    ]);
  });
});
