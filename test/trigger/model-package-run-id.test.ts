import { parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';
import * as cases from '../fixtures/model-package-run-ids.json';

/*
 * The training DAG starts its deployment with the run id this Lambda gives the registry's approval event
 * (assets/dags/cdk_mwaa_mlops/naming.py), so the two paths dedupe in Airflow. test/python/dags/test_naming.py
 * checks the Python side against the same cases; the times are the event's epoch milliseconds.
 */
type Case = { arn: string; group: string; status: string; runId: string; version?: number; creationTime?: number; lastModifiedTime?: number };

function approvalRunId(c: Case): unknown {
  const detail: Record<string, unknown> = { ModelPackageArn: c.arn, ModelPackageGroupName: c.group, ModelApprovalStatus: c.status };
  if (c.version !== undefined) detail.ModelPackageVersion = c.version;
  if (c.creationTime !== undefined) detail.CreationTime = c.creationTime;
  if (c.lastModifiedTime !== undefined) detail.LastModifiedTime = c.lastModifiedTime;
  const event = { 'id': 'e-1', 'source': 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', 'time': '2026-11-21T10:00:00Z', 'account': '123456789012', 'region': 'eu-west-1', detail };
  const result = parseTriggerInput({ dagId: 'churn_deployment', rule: 'r', event });
  return result.ok ? result.request.dagRunId : result.reason;
}

test.each(Array.from(cases as Case[]))('the approval of $arn gets run id $runId', (c) => {
  expect(approvalRunId(c)).toBe(c.runId);
});

test('the shared cases cover a re-approval of one package, which gets its own run id', () => {
  const all = Array.from(cases as Case[]);
  const reapproved = all.filter((c) => c.lastModifiedTime !== undefined && all.some((o) => o !== c && o.arn === c.arn && o.status === c.status));
  expect(reapproved.length).toBeGreaterThanOrEqual(2);
  expect(new Set(reapproved.map((c) => c.runId)).size).toBe(reapproved.length);
  expect(all.some((c) => c.creationTime !== undefined && c.lastModifiedTime === undefined)).toBe(true);
});
