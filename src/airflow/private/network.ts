import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EncryptedLogGroups } from '../../private/encrypted-log-groups';

/**
 * A new VPC fit for MWAA: two AZs, private subnets with egress through one NAT gateway, an S3 gateway endpoint, flow
 * logs (encrypted with `encryptionKey` when given), and a default security group without rules.
 */
export function createDefaultVpc(
  scope: Construct, retention: logs.RetentionDays, removalPolicy: RemovalPolicy, encryptionKey?: kms.IKey,
): ec2.Vpc {
  const flowLogGroup = new logs.LogGroup(scope, 'VpcFlowLogs', {
    retention,
    removalPolicy,
    ...(encryptionKey ? { encryptionKey, logGroupName: new EncryptedLogGroups(scope, 'vpc-flow-logs', encryptionKey).name('all') } : {}),
  });
  return new ec2.Vpc(scope, 'Vpc', {
    // Whatever the app's feature flags: nothing may use the default security group.
    restrictDefaultSecurityGroup: true,
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    flowLogs: {
      all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL },
    },
  });
}

/** Selects the environment's subnets and throws unless they are exactly two private subnets in two AZs. */
export function selectEnvironmentSubnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined): ec2.SelectedSubnets {
  const selected = vpc.selectSubnets(selection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  if (selected.hasPublic) {
    throw new Error('subnetSelection: selects public subnets; MWAA needs two private subnets (with NAT or VPC endpoints for egress)');
  }
  if (selected.subnetIds.length !== 2) {
    throw new Error(
      `subnetSelection: selects ${selected.subnetIds.length} subnets; MWAA needs exactly two private subnets in two availability zones ` +
        "(narrow it, e.g. { subnetType: SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['<az-a>', '<az-b>'] })",
    );
  }
  const [azA, azB] = selected.subnets.map((s) => s.availabilityZone);
  if (azA === azB) {
    const where = Token.isUnresolved(azA) ? 'the same availability zone' : azA;
    throw new Error(`subnetSelection: both subnets are in ${where}; MWAA needs the two subnets in two different availability zones`);
  }
  return selected;
}
