import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Aws, CfnMapping, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { validateInstanceType } from './validate';
import { acknowledgeBucketDeploymentFindings } from '../../airflow/private/nag';
import { validateNumber } from '../../private/validate-number';
import { DriftDetectionOptions } from '../drift-options';

/** The drift check: one file that runs as a SageMaker Processing job (assets/drift/README.md). */
const DRIFT_SCRIPT = path.join(__dirname, '..', '..', '..', 'assets', 'drift', 'drift_check.py');
/**
 * Where a pipeline's drift check publishes its metrics: a namespace per pipeline, because PutMetricData can be limited
 * by namespace only (`cloudwatch:namespace`), not by dimension. With one shared namespace, one pipeline's SageMaker
 * role could publish a drifted share under another pipeline's dimensions and start that pipeline's retraining.
 */
export function driftMetricNamespace(pipelineName: string): string {
  return `CdkMwaaMlops/Drift/${pipelineName}`;
}
/** The metric the drift alarm watches: the share of judged features that drifted, 0-1. */
export const DRIFTED_FEATURE_SHARE = 'DriftedFeatureShare';

/**
 * The accounts of the SageMaker scikit-learn framework images (repository `sagemaker-scikit-learn`), by region, as the
 * SageMaker Python SDK lists them (src/sagemaker/image_uri_config/sklearn.json, version 1.2-1). aws-cdk-lib's region
 * facts have no SageMaker images, hence this table; `imageUri` overrides it.
 */
const SKLEARN_IMAGE_ACCOUNTS: Record<string, string> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'cn-north-1': '450853457545',
  'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'me-south-1': '801668240914',
  'me-central-1': '272398656194',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-gov-west-1': '414596584902',
  'us-gov-east-1': '237065988967',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};
const SKLEARN_IMAGE_TAG = 'sagemaker-scikit-learn:1.2-1-cpu-py3';

/** The drift settings after defaults and checks. */
export interface ResolvedDrift {
  readonly schedule: events.Schedule;
  readonly samplingPercentage: number;
  readonly threshold: number;
  readonly retrainOnDrift: boolean;
  readonly coolDownSeconds: number;
  readonly psiThreshold: number;
  readonly ksAlpha: number;
  readonly minRecords: number;
  readonly baselineSampleRows: number;
  readonly instanceType: string;
  readonly maxRuntimeSeconds: number;
  readonly imageUri?: string;
}

export function resolveDrift(options: DriftDetectionOptions): ResolvedDrift {
  const r = {
    schedule: options.schedule ?? events.Schedule.rate(Duration.days(1)),
    samplingPercentage: options.samplingPercentage ?? 100,
    threshold: options.threshold ?? 0.3,
    retrainOnDrift: options.retrainOnDrift ?? true,
    coolDownSeconds: (options.coolDown ?? Duration.days(1)).toSeconds(),
    psiThreshold: options.psiThreshold ?? 0.2,
    ksAlpha: options.ksAlpha ?? 0.05,
    minRecords: options.minRecords ?? 100,
    baselineSampleRows: options.baselineSampleRows ?? 10000,
    instanceType: options.instanceType ?? 'ml.m5.large',
    maxRuntimeSeconds: (options.maxRuntime ?? Duration.hours(1)).toSeconds(),
    imageUri: options.imageUri,
  };
  validateNumber('drift.samplingPercentage', r.samplingPercentage, { min: 1, max: 100, wholeNumber: true, note: 'DataCaptureConfig.InitialSamplingPercentage' });
  validateNumber('drift.threshold', r.threshold, { min: 0.01, max: 1, note: 'a share of the features' });
  validateNumber('drift.coolDown', r.coolDownSeconds, { min: 0, max: 90 * 24 * 3600, unit: 'seconds' });
  validateNumber('drift.psiThreshold', r.psiThreshold, { min: 0.001, max: 10 });
  validateNumber('drift.ksAlpha', r.ksAlpha, { min: 0.0001, max: 0.5 });
  validateNumber('drift.minRecords', r.minRecords, { min: 1, max: 1_000_000, wholeNumber: true });
  validateNumber('drift.baselineSampleRows', r.baselineSampleRows, { min: 100, max: 1_000_000, wholeNumber: true });
  validateInstanceType('drift.instanceType', r.instanceType);
  validateNumber('drift.maxRuntime', r.maxRuntimeSeconds, { min: 60, max: 24 * 3600, unit: 'seconds' });
  if (r.imageUri !== undefined && !Token.isUnresolved(r.imageUri) && !/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+[:@].+$/.test(r.imageUri)) {
    throw new Error(`drift.imageUri: '${r.imageUri}' is not an ECR image URI; expected '<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>' (or @<digest>)`);
  }
  return r;
}

/** The image of the drift jobs: the given one, or the scikit-learn image of the stack's region (a mapping when the region is unknown at synth). */
export function driftImageUri(scope: Construct, drift: ResolvedDrift): string {
  if (drift.imageUri) return drift.imageUri;
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    const account = SKLEARN_IMAGE_ACCOUNTS[stack.region];
    if (!account) {
      throw new Error(`drift.imageUri: no SageMaker scikit-learn image is known for region ${stack.region}; pass an image with Python 3.9+, numpy and scipy`);
    }
    return `${account}.dkr.ecr.${stack.region}.amazonaws.com${stack.region.startsWith('cn-') ? '.cn' : ''}/${SKLEARN_IMAGE_TAG}`;
  }
  const id = 'CdkMwaaMlopsSklearnImageAccounts';
  const mapping = (stack.node.tryFindChild(id) as CfnMapping | undefined) ?? new CfnMapping(stack, id, {
    mapping: Object.fromEntries(Object.entries(SKLEARN_IMAGE_ACCOUNTS).map(([region, account]) => [region, { account }])),
  });
  return `${mapping.findInMap(Aws.REGION, 'account')}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${SKLEARN_IMAGE_TAG}`;
}

/**
 * Writes drift_check.py to `<keyPrefix><hash>/drift_check.py` in the data bucket (content-addressed: a running job never
 * sees the file change) and returns its S3 URI.
 */
export function stageDriftScript(scope: Construct, bucket: s3.IBucket, keyPrefix: string): string {
  const hash = createHash('sha256').update(fs.readFileSync(DRIFT_SCRIPT)).digest('hex').slice(0, 16);
  const prefix = `${keyPrefix}${hash}/`;
  const deployment = new s3deploy.BucketDeployment(scope, 'DriftScript', {
    sources: [s3deploy.Source.asset(path.dirname(DRIFT_SCRIPT), { exclude: ['*', '!drift_check.py'] })],
    destinationBucket: bucket,
    destinationKeyPrefix: prefix,
    // Earlier versions stay: a check running during an update reads the one it started with.
    prune: false,
  });
  acknowledgeBucketDeploymentFindings(deployment, bucket.encryptionKey !== undefined);
  return `s3://${bucket.bucketName}/${prefix}drift_check.py`;
}

/** The metric the drift check publishes for an endpoint: the share of its features that drifted. */
export function driftedFeatureShare(pipelineName: string, endpointName: string, period: Duration = Duration.days(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: driftMetricNamespace(pipelineName),
    metricName: DRIFTED_FEATURE_SHARE,
    dimensionsMap: { Pipeline: pipelineName, Endpoint: endpointName },
    statistic: cloudwatch.Stats.MAXIMUM,
    period,
  });
}

/**
 * The drift alarm: once a check's drifted share reaches the threshold. A check publishes once per run, so missing data
 * keeps the alarm's state (`IGNORE`) instead of flapping through INSUFFICIENT_DATA; each ALARM transition is one event.
 */
export function createDriftAlarm(scope: Construct, pipelineName: string, endpointName: string, drift: ResolvedDrift): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'DriftAlarm', {
    alarmName: `${pipelineName}-data-drift`,
    alarmDescription: `[${pipelineName}] At least ${drift.threshold * 100}% of the features reaching endpoint ${endpointName} drifted from the deployed model's training data` +
      (drift.retrainOnDrift ? '; the training DAG is started (it passes the quality gate and the approval before anything deploys)' : ''),
    metric: driftedFeatureShare(pipelineName, endpointName),
    threshold: drift.threshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
  });
}

/** The config's `drift` section (assets/dags/cdk_mwaa_mlops/config.py). */
export function driftSection(
  pipelineName: string, drift: ResolvedDrift, values: { capturePrefix: string; imageUri: string; scriptUri: string },
): Record<string, unknown> {
  return {
    capture_prefix: values.capturePrefix,
    sampling_percentage: drift.samplingPercentage,
    image_uri: values.imageUri,
    script_uri: values.scriptUri,
    instance_type: drift.instanceType,
    max_runtime_seconds: drift.maxRuntimeSeconds,
    baseline_sample_rows: drift.baselineSampleRows,
    psi_threshold: drift.psiThreshold,
    ks_alpha: drift.ksAlpha,
    min_rows: drift.minRecords,
    cool_down_seconds: drift.coolDownSeconds,
    metric_namespace: driftMetricNamespace(pipelineName),
  };
}
