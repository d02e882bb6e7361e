import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';

/**
 * The metrics the monitoring reads, each as AWS documents it. Where a service documents no metric for what we need,
 * an EventBridge rule matches the service's state-change events and its `MatchedEvents` count stands in.
 */

/**
 * Apache Airflow metrics MWAA publishes for Airflow v2 and v3: namespace `AmazonMWAA`, every metric also carries the
 * `Environment` dimension. Documented in "Apache Airflow environment metrics in CloudWatch",
 * https://docs.aws.amazon.com/mwaa/latest/userguide/access-metrics-cw.html (names, units and `Function`/`DAG`
 * dimensions), with the `Function, <value>, Environment, <name>` form shown in "Monitoring dashboards and alarms on
 * Amazon MWAA", https://docs.aws.amazon.com/mwaa/latest/userguide/monitoring-dashboard.html.
 */
const MWAA_NAMESPACE = 'AmazonMWAA';

/** `scheduler_heartbeat` (counter): the scheduler's check-ins. Dimensions Function=Scheduler. */
export function schedulerHeartbeat(environmentName: string, period: Duration): cloudwatch.Metric {
  return mwaa('SchedulerHeartbeat', { Function: 'Scheduler', Environment: environmentName }, cloudwatch.Stats.SUM, period);
}

/** `executor.queued_tasks` (gauge): tasks waiting for a worker. Dimensions Function=Executor. */
export function queuedTasks(environmentName: string, period: Duration): cloudwatch.Metric {
  return mwaa('QueuedTasks', { Function: 'Executor', Environment: environmentName }, cloudwatch.Stats.MAXIMUM, period);
}

/** `executor.running_tasks` (gauge): tasks running on workers. Dimensions Function=Executor. */
export function runningTasks(environmentName: string, period: Duration): cloudwatch.Metric {
  return mwaa('RunningTasks', { Function: 'Executor', Environment: environmentName }, cloudwatch.Stats.MAXIMUM, period);
}

/** `dag_processing.import_errors` (gauge): DAG files that failed to import. Dimensions Function="DAG Processing". */
export function importErrors(environmentName: string, period: Duration): cloudwatch.Metric {
  return mwaa('ImportErrors', { Function: 'DAG Processing', Environment: environmentName }, cloudwatch.Stats.MAXIMUM, period);
}

/** `ti_failures` (counter): failed task instances of all DAGs. Dimensions DAG=All, Task=All. */
export function taskInstanceFailures(environmentName: string, period: Duration): cloudwatch.Metric {
  return mwaa('TaskInstanceFailures', { DAG: 'All', Task: 'All', Environment: environmentName }, cloudwatch.Stats.SUM, period);
}

/**
 * `dagrun.duration.success.{dag_id}` / `dagrun.duration.failed.{dag_id}` (timers, milliseconds): one data point per
 * finished run, so their SampleCount counts the DAG's successful and failed runs. Dimensions DAG={dag_id}.
 */
export function dagRuns(outcome: 'Success' | 'Failed', environmentName: string, dagId: string, period: Duration): cloudwatch.Metric {
  return mwaa(`DAGDuration${outcome}`, { DAG: dagId, Environment: environmentName }, cloudwatch.Stats.SAMPLE_COUNT, period);
}

/**
 * SageMaker endpoint invocation metrics: namespace `AWS/SageMaker`, dimensions EndpointName and VariantName.
 * Documented in "Amazon SageMaker AI metrics in Amazon CloudWatch",
 * https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html (Invocations, Invocation4XXErrors,
 * Invocation5XXErrors: counts, statistic Sum; ModelLatency: microseconds). The deployment DAG names its one
 * production variant `AllTraffic`.
 */
export const ENDPOINT_VARIANT = 'AllTraffic';

export function endpoint(
  metricName: 'Invocations' | 'Invocation4XXErrors' | 'Invocation5XXErrors' | 'ModelLatency',
  endpointName: string,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/SageMaker',
    metricName,
    dimensionsMap: { EndpointName: endpointName, VariantName: ENDPOINT_VARIANT },
    statistic: metricName === 'ModelLatency' ? cloudwatch.Stats.p(90) : cloudwatch.Stats.SUM,
    period,
  });
}

/**
 * Events that matched one rule: `MatchedEvents` in namespace `AWS/Events` with dimension RuleName (rules on the
 * default event bus). Documented in "Monitoring Amazon EventBridge",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html.
 */
export function matchedEvents(rule: events.IRule, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName: 'MatchedEvents',
    dimensionsMap: { RuleName: rule.ruleName },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

function mwaa(metricName: string, dimensionsMap: Record<string, string>, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: MWAA_NAMESPACE, metricName, dimensionsMap, statistic, period });
}
