import { parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';
import * as cases from '../fixtures/model-package-run-ids.json';

/*
 * The training DAG starts its deployment with the run id this Lambda gives the registry's approval event
 * (assets/dags/cdk_mwaa_mlops/naming.py), so the two paths dedupe in Airflow. test/python/dags/test_naming.py
 * checks the Python side against the same cases.
 */
test.each(Array.from(cases))('the approval of $arn gets run id $runId', (c) => {
  const detail: Record<string, unknown> = { ModelPackageArn: c.arn, ModelPackageGroupName: c.group, ModelApprovalStatus: c.status };
  if ('version' in c) detail.ModelPackageVersion = c.version;
  const event = { 'id': 'e-1', 'source': 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change', 'time': '2026-11-21T10:00:00Z', 'account': '123456789012', 'region': 'eu-west-1', detail };
  const result = parseTriggerInput({ dagId: 'churn_deployment', rule: 'r', event });
  expect(result).toMatchObject({ ok: true, request: { dagRunId: c.runId } });
});
