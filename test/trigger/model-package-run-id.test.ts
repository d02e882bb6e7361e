import { parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';
import * as cases from '../fixtures/model-package-run-ids.json';

/*
 * The training DAG starts its deployment with the run id this Lambda gives the registry's approval event
 * (assets/dags/cdk_mwaa_mlops/naming.py), so the two paths dedupe in Airflow. test/python/dags/test_naming.py
 * checks the Python side against the same cases; the times are the event's epoch milliseconds. A case with a `stage`
 * is a change of the package's lifecycle (UpdatedModelPackageFields names ModelLifeCycle).
 */
interface Case {
  arn: string;
  group: string;
  status: string;
  runId: string;
  version?: number;
  creationTime?: number;
  lastModifiedTime?: number;
  stage?: string;
  stageStatus?: string;
}

function stateChange(c: Case): Record<string, unknown> {
  const detail: Record<string, unknown> = { ModelPackageArn: c.arn, ModelPackageGroupName: c.group, ModelApprovalStatus: c.status };
  if (c.version !== undefined) detail.ModelPackageVersion = c.version;
  if (c.creationTime !== undefined) detail.CreationTime = c.creationTime;
  if (c.lastModifiedTime !== undefined) detail.LastModifiedTime = c.lastModifiedTime;
  if (c.stage !== undefined) {
    detail.ModelLifeCycle = { Stage: c.stage, StageStatus: c.stageStatus, StageDescription: 'promoted' };
    detail.UpdatedModelPackageFields = ['ModelLifeCycle'];
  }
  return detail;
}

function runIdOf(detail: Record<string, unknown>): unknown {
  const event = { 'id': 'e-1', 'source': 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', 'time': '2026-11-21T10:00:00Z', 'account': '123456789012', 'region': 'eu-west-1', detail };
  const result = parseTriggerInput({ dagId: 'churn_deployment', rule: 'r', event });
  return result.ok ? result.request.dagRunId : result.reason;
}

const all = Array.from(cases as Case[]);

test.each(all)('the state change of $arn gets run id $runId', (c) => {
  expect(runIdOf(stateChange(c))).toBe(c.runId);
});

test('the shared cases cover a re-approval of one package, which gets its own run id', () => {
  const approvals = all.filter((c) => c.stage === undefined);
  const reapproved = approvals.filter(
    (c) => c.lastModifiedTime !== undefined && approvals.some((o) => o !== c && o.arn === c.arn && o.status === c.status),
  );
  expect(reapproved.length).toBeGreaterThanOrEqual(2);
  expect(new Set(reapproved.map((c) => c.runId)).size).toBe(reapproved.length);
  expect(approvals.some((c) => c.creationTime !== undefined && c.lastModifiedTime === undefined)).toBe(true);
});

test('a stage set for a package is its own run: apart from its approval at the same moment, from other stages and statuses', () => {
  const staged = all.filter((c) => c.stage !== undefined);
  const sameMoment = staged.find((c) => all.some((o) => o.stage === undefined && o.arn === c.arn && o.lastModifiedTime === c.lastModifiedTime));
  expect(sameMoment).toBeDefined();
  const approval = all.find((o) => o.stage === undefined && o.arn === sameMoment!.arn && o.lastModifiedTime === sameMoment!.lastModifiedTime)!;
  expect(sameMoment!.runId).not.toBe(approval.runId);
  expect(new Set(all.map((c) => c.runId)).size).toBe(all.length);
  expect(staged.some((c) => c.stageStatus !== 'Approved')).toBe(true);
  expect(staged.every((c) => c.runId.length > 80 || c.runId.includes(`.${c.stage}.${c.stageStatus}__`))).toBe(true);
});

test('a lifecycle the change did not touch leaves the approval\'s run id as it was', () => {
  for (const c of all.filter((o) => o.stage === undefined)) {
    const detail = { ...stateChange(c), ModelLifeCycle: { Stage: 'prod', StageStatus: 'Approved' }, UpdatedModelPackageFields: ['ModelApprovalStatus'] };
    expect(runIdOf(detail)).toBe(c.runId);
  }
});
