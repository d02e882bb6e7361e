import * as path from 'path';
import { Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { AirflowEnvironment, AirflowVersion, EnvironmentClass } from '../../src';
import { nagFindings, reasonsNotNamingTheirSubject } from '../nag';
import { newStack, SAMPLE_DAGS } from '../util';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

function acknowledgements(scope: IConstruct): Array<{ id: string; reason: string }> {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason }))));
}

describe('cdk-nag AwsSolutions (with the MWAA logging rule)', () => {
  test('defaults: zero unacknowledged findings', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('every option set: zero unacknowledged findings', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const env = new AirflowEnvironment(stack, 'Airflow', {
      environmentName: 'nag-all-options',
      airflowVersion: AirflowVersion.V3_2_1,
      environmentClass: EnvironmentClass.MW1_LARGE,
      minWorkers: 2,
      maxWorkers: 8,
      schedulers: 3,
      minWebservers: 2,
      maxWebservers: 3,
      encryptionKey: key,
      dagsDirectory: SAMPLE_DAGS,
      requirements: ['scikit-learn'],
      startupScriptFile: path.join(FIXTURES, 'startup.sh'),
      pluginsDirectory: path.join(FIXTURES, 'plugins'),
      weeklyMaintenanceWindowStart: 'SAT:22:00',
      airflowConfigurationOptions: { 'core.default_task_retries': '2' },
    });
    env.addDagFile('configs/pipeline.json', '{}');
    expect(nagFindings(stack)).toEqual([]);
  });

  test('every acknowledgement carries its reason, naming what it acknowledges', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', { dagsDirectory: SAMPLE_DAGS });
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(5);
    // Each reason names what it acknowledges: the resource, action or managed policy of its finding.
    expect(reasonsNotNamingTheirSubject(stack)).toEqual([]);
  });

  test('the checker is live: a finding that is not acknowledged is reported', () => {
    const stack = newStack();
    const env = new AirflowEnvironment(stack, 'Airflow');
    (env.cfnEnvironment.loggingConfiguration as any).taskLogs = { enabled: false };
    expect(nagFindings(stack)).toEqual([expect.stringMatching(/AwsSolutions-MWAAAllLoggingInfo: Test\/Airflow\/Resource/)]);
  });
});
