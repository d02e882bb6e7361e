import { Annotations, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

const KEY_USE = ['kms:Decrypt', 'kms:GenerateDataKey*'];

/** A topic encrypted with `key` (or a new key with rotation) that only accepts TLS. */
export function createTopic(scope: Construct, key: kms.IKey | undefined): { topic: sns.Topic; key: kms.IKey } {
  const topicKey = key ?? new kms.Key(scope, 'TopicKey', {
    description: `cdk-mwaa-mlops monitoring ${scope.node.path}: failure notifications`,
    enableKeyRotation: true,
    // The key encrypts messages in flight only; nothing stays encrypted with it once the topic is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const topic = new sns.Topic(scope, 'Topic', {
    displayName: 'cdk-mwaa-mlops pipeline failures',
    masterKey: topicKey,
    enforceSSL: true,
  });
  return { topic, key: topicKey };
}

/**
 * Lets this account's CloudWatch alarms publish to the topic. A topic policy replaces SNS's default one, so the
 * alarms need their own statement; CloudWatch sends `aws:SourceArn` (the alarm) and `aws:SourceAccount`
 * ("Enable compatibility between event sources from AWS services and encrypted topics",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * Alarm ARNs are only known after deployment and would make the key depend on the alarms that depend on the topic,
 * so the condition names this account's alarms.
 */
export function allowCloudWatchAlarms(scope: Construct, topic: sns.ITopic, key: kms.IKey | undefined): void {
  const stack = Stack.of(scope);
  const conditions = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
  };
  const principal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  const added = topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchAlarms',
    principals: [principal],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions,
  })).statementAdded;
  if (!added) {
    Annotations.of(scope).addWarningV2('cdk-mwaa-mlops:monitoring-imported-topic',
      `topic: ${topic.node.path} is imported, so its policy cannot be changed here; let cloudwatch.amazonaws.com and events.amazonaws.com publish to it (and use its key), or the alarms and rules reach no one`);
  }
  if (key) addToKeyPolicy(scope, key, new iam.PolicyStatement({ sid: 'AllowCloudWatchAlarms', principals: [principal], actions: KEY_USE, resources: ['*'], conditions }));
}

function addToKeyPolicy(scope: Construct, key: kms.IKey, statement: iam.PolicyStatement): void {
  if (!key.addToResourcePolicy(statement, true).statementAdded) {
    Annotations.of(scope).addWarningV2('cdk-mwaa-mlops:monitoring-imported-key',
      `encryptionKey: ${key.node.path} is imported, so its policy cannot be changed here; allow cloudwatch.amazonaws.com and events.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or notifications are dropped`);
  }
}
