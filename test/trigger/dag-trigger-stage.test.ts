import { Token } from 'aws-cdk-lib';
import { lifecycleChange, sampleEvent, triggerInput } from './events';
import { FakeClient } from './fake-client';
import { AirflowEnvironment } from '../../src/airflow/airflow-environment';
import { DagTrigger } from '../../src/trigger';
import { clientToken } from '../../src/trigger/runtime/dag-run-request';
import { createTrigger } from '../../src/trigger/runtime/trigger-dag-run';
import { newStack, template } from '../util';

const WORKFLOW_ARN = 'arn:aws:airflow-serverless:us-east-2:123456789012:workflow/churn_deployment-AbCdE12345';

function trigger() {
  const stack = newStack();
  const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
  return { stack, trigger: new DagTrigger(stack, 'Trigger', { environment }) };
}

function onlyRule(stack: ReturnType<typeof newStack>): any {
  const rules = Object.values(template(stack).findResources('AWS::Events::Rule'));
  expect(rules).toHaveLength(1);
  return rules[0];
}

describe('onModelPackageStageChange: the rule', () => {
  test('an approved package of the group set Approved (default) for a listed stage; only a change of its lifecycle', () => {
    const { stack, trigger: t } = trigger();
    const rule = t.onModelPackageStageChange('StageApproved', { modelPackageGroupName: 'churn-models', stages: ['dev', 'prod'], dagId: 'deploy_model' });
    expect(t.rules).toEqual([rule]);
    const { Properties: props } = onlyRule(stack);
    expect(props.EventPattern).toEqual({
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      'detail': {
        ModelPackageGroupName: ['churn-models'],
        ModelApprovalStatus: ['Approved'],
        ModelLifeCycle: { Stage: ['dev', 'prod'], StageStatus: ['Approved'] },
        UpdatedModelPackageFields: ['ModelLifeCycle'],
      },
    });
    expect(props.Description).toBe('Starts Airflow DAG deploy_model: model package in churn-models Approved for stage dev, prod');
    expect(props.Targets[0].InputTransformer.InputTemplate).toMatch(/^\{"dagId":"deploy_model"/);
  });

  test('stageStatus chooses the status; the stages are copied, so changing the caller\'s array later changes nothing', () => {
    const { stack, trigger: t } = trigger();
    const stages = ['pre-prod'];
    t.onModelPackageStageChange('Pending', { modelPackageGroupName: 'churn-models', stages, stageStatus: 'PendingApproval', dagId: 'notify' });
    stages.push('prod');
    expect(onlyRule(stack).Properties.EventPattern.detail.ModelLifeCycle).toEqual({ Stage: ['pre-prod'], StageStatus: ['PendingApproval'] });
  });
});

describe('onModelPackageStageChange: validation at synth time, naming the prop', () => {
  const group = 'churn-models';
  test.each<[string, object, RegExp]>([
    ['no stage', { stages: [] }, /^stages: give 1 to 10 lifecycle stage names \(got 0\)$/],
    ['eleven stages', { stages: Array.from({ length: 11 }, (_, i) => `s${i}`) }, /^stages: give 1 to 10 .*\(got 11\)$/],
    ['an uppercase stage', { stages: ['dev', 'Prod'] }, /^stages: 'Prod' is not allowed; use at most 63 lowercase letters and digits in hyphen-separated words/],
    ['an underscore', { stages: ['pre_prod'] }, /^stages: 'pre_prod' is not allowed/],
    ['a double hyphen', { stages: ['pre--prod'] }, /^stages: 'pre--prod' is not allowed/],
    ['a leading digit', { stages: ['1st'] }, /^stages: '1st' is not allowed/],
    ['longer than SageMaker allows', { stages: ['s'.repeat(64)] }, /^stages: 's{64}' is not allowed/],
    ['a stage twice', { stages: ['dev', 'prod', 'dev'] }, /^stages: 'dev' is listed twice$/],
    ['a token stage', { stages: [Token.asString({ Ref: 'Stage' })] }, /^stages: each stage must be a literal name, not a token/],
    ['a stage status with a space', { stages: ['dev'], stageStatus: 'Not approved' }, /^stageStatus: 'Not approved' is not a SageMaker stage status/],
    ['an empty stage status', { stages: ['dev'], stageStatus: '' }, /^stageStatus: '' is not a SageMaker stage status/],
    ['a token stage status', { stages: ['dev'], stageStatus: Token.asString({ Ref: 'S' }) }, /^stageStatus: must be a literal status, not a token/],
    ['a bad group', { stages: ['dev'], modelPackageGroupName: 'no spaces' }, /^modelPackageGroupName: 'no spaces'/],
  ])('%s', (_name, options, message) => {
    const { trigger: t } = trigger();
    expect(() => t.onModelPackageStageChange('S', { modelPackageGroupName: group, dagId: 'd', stages: ['dev'], ...options })).toThrow(message);
  });

  test('a target is still required, and a DAG still needs the environment', () => {
    const { trigger: t } = trigger();
    expect(() => t.onModelPackageStageChange('S', { modelPackageGroupName: group, stages: ['dev'] })).toThrow(/S: set dagId/);
    const bare = new DagTrigger(newStack(), 'T');
    expect(() => bare.onModelPackageStageChange('S', { modelPackageGroupName: group, stages: ['dev'], dagId: 'd' })).toThrow(/S\.dagId: 'd' is a DAG, but this DagTrigger has no MWAA environment/);
  });
});

describe('a lifecycle change at run time', () => {
  let mwaa: FakeClient;
  let records: any[];
  const run = createTriggerFor();

  function createTriggerFor() {
    return (input: unknown) => createTrigger({
      client: mwaa,
      environmentName: 'ml-env',
      log: { info: (r) => records.push(r), warn: (r) => records.push(r), error: (r) => records.push(r) },
      sleep: async () => undefined,
    })(input);
  }

  beforeEach(() => {
    mwaa = new FakeClient();
    mwaa.restApi.resolves({ RestApiStatusCode: 200 });
    mwaa.workflowRun.resolves({ $metadata: { httpStatusCode: 200 }, RunId: 'run-1', Status: 'STARTING' });
    records = [];
  });

  const sentRuns = () => mwaa.restApi.calls.map((c: any) => c.Body);

  test('conf carries the stage and its status; the run id names them', async () => {
    const result = await run(triggerInput('deploy_model', lifecycleChange('prod', 'Approved')));
    expect(result.outcome).toBe('triggered');
    const [body] = sentRuns();
    expect(body.dag_run_id).toMatch(/^model_package_state_change__versionedmp-p-idy6c3e1fiqj\.v2\.prod\.Approved__[0-9a-f]{20}$/);
    expect(body.conf).toMatchObject({
      source_kind: 'model_package_state_change',
      model_package_arn: 'arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2',
      model_approval_status: 'Approved',
      model_package_modified_time: 1614186099000,
      model_package_stage: 'prod',
      model_package_stage_status: 'Approved',
    });
    expect(body.conf).not.toHaveProperty('model_package_stage_description');
  });

  test('a redelivery is the same run; another stage, another status or the package\'s approval are other runs', async () => {
    const event = lifecycleChange('prod', 'Approved');
    await run(triggerInput('deploy_model', event));
    await run(triggerInput('deploy_model', { ...event, id: 'another-delivery', time: '2030-01-01T00:00:00Z' }));
    await run(triggerInput('deploy_model', lifecycleChange('dev', 'Approved')));
    await run(triggerInput('deploy_model', lifecycleChange('prod', 'PendingApproval')));
    await run(triggerInput('deploy_model', lifecycleChange('prod', 'Approved', 1614186100000)));
    const approval = sampleEvent('sagemaker-model-package-state-change');
    approval.detail.LastModifiedTime = 1614186099000;
    await run(triggerInput('deploy_model', approval));
    const ids = sentRuns().map((b) => b.dag_run_id);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(5);
    expect(ids[5]).toMatch(/^model_package_state_change__versionedmp-p-idy6c3e1fiqj\.v2\.Approved__/);
    expect(sentRuns()[5].conf).not.toHaveProperty('model_package_stage');
  });

  test('a package that has a stage, but whose approval changed, keeps the approval\'s run id and conf', async () => {
    const approval = sampleEvent('sagemaker-model-package-state-change');
    const staged = structuredClone(approval);
    staged.detail.ModelLifeCycle = { Stage: 'Development', StageStatus: 'Approved' };
    staged.detail.UpdatedModelPackageFields = ['ModelApprovalStatus'];
    await run(triggerInput('deploy_model', approval));
    await run(triggerInput('deploy_model', staged));
    const [plain, withStage] = sentRuns();
    expect(withStage.dag_run_id).toBe(plain.dag_run_id);
    expect(withStage.conf).toEqual(plain.conf);
  });

  test.each<[string, Record<string, unknown> | undefined, RegExp]>([
    ['a stage SageMaker allows but no pipeline stage is', { Stage: 'Production', StageStatus: 'Approved' }, /ModelLifeCycle\.Stage is "Production", not a stage name/],
    ['an empty stage', { Stage: '', StageStatus: 'Approved' }, /ModelLifeCycle\.Stage is ""/],
    ['no stage', { StageStatus: 'Approved' }, /ModelLifeCycle\.Stage is missing/],
    ['a stage status that is not a string', { Stage: 'prod', StageStatus: 1 }, /ModelLifeCycle\.StageStatus is 1, not a stage status/],
    ['an empty stage status', { Stage: 'prod', StageStatus: '' }, /ModelLifeCycle\.StageStatus is ""/],
    ['no lifecycle, though the change names it', undefined, /ModelLifeCycle is missing, but UpdatedModelPackageFields names it/],
  ])('%s: rejected, logged with the field and counted, without calling MWAA', async (_name, lifecycle, reason) => {
    const event = lifecycleChange('prod', 'Approved');
    if (lifecycle) event.detail.ModelLifeCycle = lifecycle;
    else delete event.detail.ModelLifeCycle;
    const result = await run(triggerInput('deploy_model', event));
    expect(result).toMatchObject({ outcome: 'rejected' });
    expect(result.reason).toMatch(reason);
    expect(mwaa.restApi.calls).toHaveLength(0);
    // The metric filters count records with outcome rejected and final true.
    expect(records).toEqual([expect.objectContaining({ outcome: 'rejected', final: true, reason: 'malformed_event', detail: expect.stringMatching(reason) })]);
  });

  test('MWAA Serverless: the same two keys in OverrideParameters, and the run id as the ClientToken', async () => {
    const event = lifecycleChange('prod', 'Approved');
    await run(triggerInput('deploy_model', event));
    await run({ workflowArn: WORKFLOW_ARN, rule: 'StageApproved', event });
    const [dagRun] = sentRuns();
    const [workflowRun] = mwaa.workflowRun.calls;
    expect(workflowRun.OverrideParameters).toEqual(dagRun.conf);
    expect(workflowRun.OverrideParameters).toMatchObject({ model_package_stage: 'prod', model_package_stage_status: 'Approved' });
    expect(workflowRun.ClientToken).toBe(clientToken(dagRun.dag_run_id));
  });
});
