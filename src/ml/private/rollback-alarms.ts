import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { RollbackAlarmOptions } from '../endpoint-deployment';

/**
 * The alarms a blue/green update of the endpoint watches (`AutoRollbackConfiguration`). Metrics: AWS/SageMaker
 * `Invocation5XXErrors` (Sum) and `ModelLatency` (microseconds, Average), dimensions `EndpointName` and `VariantName`,
 * as documented in "Monitor Amazon SageMaker AI with Amazon CloudWatch" (endpoint invocation metrics).
 */
export function createRollbackAlarms(
  scope: Construct, endpointName: string, options: RollbackAlarmOptions, alarmNames?: { invocation5xx: string; modelLatency: string },
): cloudwatch.Alarm[] {
  const period = options.period ?? Duration.minutes(1);
  const evaluationPeriods = options.evaluationPeriods ?? 2;
  const dimensionsMap = { EndpointName: endpointName, VariantName: 'AllTraffic' };
  const errors = new cloudwatch.Alarm(scope, 'Invocation5xxAlarm', {
    alarmName: alarmNames?.invocation5xx,
    alarmDescription: `Rolls back an update of endpoint ${endpointName}: the AllTraffic variant returned 5XX errors`,
    metric: new cloudwatch.Metric({
      namespace: 'AWS/SageMaker', metricName: 'Invocation5XXErrors', dimensionsMap, statistic: cloudwatch.Stats.SUM, period,
    }),
    threshold: options.maxInvocation5xxErrors ?? 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const latency = new cloudwatch.Alarm(scope, 'ModelLatencyAlarm', {
    alarmName: alarmNames?.modelLatency,
    alarmDescription: `Rolls back an update of endpoint ${endpointName}: the AllTraffic variant's model latency is too high`,
    metric: new cloudwatch.Metric({
      namespace: 'AWS/SageMaker', metricName: 'ModelLatency', dimensionsMap, statistic: cloudwatch.Stats.AVERAGE, period,
    }),
    threshold: (options.maxModelLatency ?? Duration.seconds(1)).toMilliseconds() * 1000,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return [errors, latency];
}
