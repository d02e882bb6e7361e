import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AirflowEnvironment, AirflowEnvironmentProps, AirflowVersion, EnvironmentClass } from '../../src';
import { newStack } from '../util';

function create(props: AirflowEnvironmentProps): void {
  new AirflowEnvironment(newStack(), 'Airflow', props);
}

describe('bad props fail at synth, naming the prop, the value and what is allowed', () => {
  test.each([
    [{ environmentName: '1-starts-with-digit' }, /environmentName: '1-starts-with-digit' is not allowed; it must start with a letter/],
    [{ environmentName: 'has space' }, /environmentName: 'has space' is not allowed/],
    [{ environmentName: 'a'.repeat(81) }, /environmentName: 'a{81}' is 81 characters long; MWAA allows 1 to 80/],
    [{ minWorkers: 5, maxWorkers: 2 }, /minWorkers \(5\) is greater than maxWorkers \(2\)/],
    [{ maxWorkers: 26 }, /maxWorkers: 26 is not allowed; use a whole number from 1 to 25 \(the limits of mw1.small\)$/],
    [{ minWorkers: 0 }, /minWorkers: 0 is not allowed; use a whole number from 1 to 25 \(the limits of mw1.small\)$/],
    [{ maxWorkers: 2.5 }, /maxWorkers: 2.5 is not allowed/],
    [{ schedulers: 1 }, /schedulers: 1 is not allowed; use a whole number from 2 to 5 \(the limits of mw1.small\)$/],
    [{ schedulers: 6 }, /schedulers: 6 is not allowed; use a whole number from 2 to 5 \(the limits of mw1.small\)$/],
    [{ environmentClass: EnvironmentClass.MW1_MICRO, maxWorkers: 2 }, /maxWorkers: 2 is not allowed; use a whole number from 1 to 1 \(the limits of mw1.micro\)$/],
    [{ environmentClass: EnvironmentClass.MW1_MICRO, schedulers: 2 }, /schedulers: 2 is not allowed; use a whole number from 1 to 1 \(the limits of mw1.micro\)$/],
    [{ environmentClass: EnvironmentClass.MW1_MICRO, maxWebservers: 2 }, /maxWebservers: 2 is not allowed; use a whole number from 1 to 1 \(the limits of mw1.micro\)$/],
    [{ minWebservers: 4, maxWebservers: 3 }, /minWebservers \(4\) is greater than maxWebservers \(3\)/],
    [{ weeklyMaintenanceWindowStart: 'Sunday 3am' }, /weeklyMaintenanceWindowStart: 'Sunday 3am' is not DAY:HH:MM/],
    [{ weeklyMaintenanceWindowStart: 'SUN:03:15' }, /weeklyMaintenanceWindowStart: 'SUN:03:15' is not DAY:HH:MM \(UTC, DAY one of MON..SUN, MM 00 or 30\)/],
    [{ weeklyMaintenanceWindowStart: 'SUN:24:00' }, /weeklyMaintenanceWindowStart: 'SUN:24:00'/],
    [{ requirements: ['--constraint "https://example.com/c.txt"'] }, /requirements: '--constraint .*' sets a constraints file/],
    [{ requirements: ['boto3\npandas'] }, /requirements: 'boto3\npandas' is not one requirement/],
    [{ airflowConfigurationOptions: { retries: '2' } }, /airflowConfigurationOptions: 'retries' is not 'section.key'/],
    [{ startupScriptFile: '/no/such/file.sh' }, /startupScriptFile: '\/no\/such\/file.sh' is not a readable file/],
  ] as Array<[AirflowEnvironmentProps, RegExp]>)('%j', (props, message) => {
    expect(() => create(props)).toThrow(message);
  });

  test('an Airflow version string that is not a version', () => {
    expect(() => AirflowVersion.of('latest')).toThrow(/airflowVersion: 'latest' is not an Airflow version; expected MAJOR.MINOR.PATCH/);
    expect(() => AirflowVersion.of('3.1')).toThrow(/airflowVersion: '3.1' is not an Airflow version/);
    expect(() => AirflowVersion.of('1.10.12')).toThrow(/airflowVersion: '1.10.12' is not supported; MWAA runs Airflow 2.x and 3.x/);
    expect(() => AirflowVersion.of('2.5.1')).toThrow(/older than 2.7.2/);
    expect(() => AirflowVersion.of('3.4.0', 'py3')).toThrow(/pythonVersion: 'py3' is not a Python version/);
  });

  test('a subnet selection that does not give exactly two private subnets in two AZs', () => {
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-3',
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      privateSubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
      publicSubnetIds: ['subnet-pa', 'subnet-pb', 'subnet-pc'],
    });
    expect(() => new AirflowEnvironment(stack, 'A', { vpc }))
      .toThrow(/subnetSelection: selects 3 subnets; MWAA needs exactly two private subnets in two availability zones/);
    expect(() => new AirflowEnvironment(stack, 'B', { vpc, subnetSelection: { subnetType: ec2.SubnetType.PUBLIC, onePerAz: true } }))
      .toThrow(/subnetSelection: selects public subnets/);
    const sameAz = ['subnet-1', 'subnet-2'].map((subnetId) =>
      ec2.Subnet.fromSubnetAttributes(stack, subnetId, { subnetId, availabilityZone: 'eu-west-1a' }));
    expect(() => new AirflowEnvironment(stack, 'C', { vpc, subnetSelection: { subnets: sameAz } }))
      .toThrow(/subnetSelection: both subnets are in eu-west-1a; MWAA needs the two subnets in two different availability zones/);
  });

  test('a public or unversioned source bucket', () => {
    const stack = newStack();
    const open = new s3.Bucket(stack, 'Open', { versioned: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS });
    expect(() => new AirflowEnvironment(stack, 'A', { sourceBucket: open }))
      .toThrow(/sourceBucket: Test\/Open does not block public access \(blockPublicPolicy, restrictPublicBuckets not set\); MWAA requires s3.BlockPublicAccess.BLOCK_ALL/);
    const unversioned = new s3.Bucket(stack, 'Unversioned', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
    expect(() => new AirflowEnvironment(stack, 'B', { sourceBucket: unversioned }))
      .toThrow(/sourceBucket: Test\/Unversioned is not versioned; MWAA requires a versioned source bucket/);
  });
});

describe('AirflowVersion', () => {
  test('constants carry the Python version of their MWAA image', () => {
    expect(AirflowVersion.LATEST.version).toBe('3.3.1');
    expect(AirflowVersion.V3_0_6.pythonVersion).toBe('3.12');
    expect(AirflowVersion.V2_10_3.pythonVersion).toBe('3.11');
    expect(AirflowVersion.of('3.4.0').constraintLine)
      .toBe('--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.4.0/constraints-3.12.txt"');
  });

  test('compares as versions, not strings', () => {
    expect(AirflowVersion.of('2.10.1').isAtLeast(AirflowVersion.V2_9_2)).toBe(true);
    expect(AirflowVersion.V2_9_2.isAtLeast(AirflowVersion.of('2.10.1'))).toBe(false);
    expect(AirflowVersion.V3_0_6.isAtLeast(AirflowVersion.V3_0_6)).toBe(true);
    expect(AirflowVersion.V3_3_1.majorVersion).toBe(3);
  });
});
