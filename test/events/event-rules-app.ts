/*
 * Every EventBridge rule the constructs create, synthesized for test/events/test_event_patterns.py: the example app's
 * stacks as they are, plus the rule options the example leaves out (S3 source, custom raw prefix, stages in the
 * pipeline's account, image tag prefixes, each approval status, stage rules for several stages and another stage status,
 * no prefix, an imported bucket, custom patterns, alarm rules (the default state and others), a schedule, a standalone
 * PipelineMonitoring).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MwaaMlopsExampleStack, MwaaMlopsSharedExampleStack } from '../../examples/app';
import {
  AirflowEnvironment, DagTrigger, EndpointDeployment, ModelApprovalStatus, ModelBuildPipeline, MwaaMlopsPipeline, PipelineMonitoring,
  PipelineSource, PromotionGate,
} from '../../src';

const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
new MwaaMlopsExampleStack(app, 'MwaaMlopsExample');
new MwaaMlopsSharedExampleStack(app, 'MwaaMlopsSharedExample');

const variants = new Stack(app, 'EventRuleVariants');
const uploads = new s3.Bucket(variants, 'Uploads', { versioned: true, enforceSSL: true });
new MwaaMlopsPipeline(variants, 'Forecast', {
  pipelineName: 'forecast',
  source: PipelineSource.s3({ bucket: uploads, objectKey: 'forecast/source.zip' }),
  workflow: { dataPrefixes: { raw: 'landing/raw/' } },
});
// Stages in the pipeline's own account: the lifecycle events of each stage reach the stage rule only.
new MwaaMlopsPipeline(variants, 'Staged', {
  pipelineName: 'staged',
  workflow: { stages: [{ name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC }, { name: 'prod' }] },
});

const environment = AirflowEnvironment.fromEnvironmentAttributes(variants, 'Shared', { environmentName: 'shared-mwaa' });
const repository = new ecr.Repository(variants, 'Images');
const data = new s3.Bucket(variants, 'Data', { versioned: true, enforceSSL: true });
const trigger = new DagTrigger(variants, 'Trigger', { environment });
trigger.onImagePushed('ReleasePushed', { repository, dagId: 'release_training', imageTagPrefixes: ['v', 'release-'] });
trigger.onObjectCreated('AnyObject', { bucket: data, dagId: 'any_object' });
trigger.onObjectCreated('ImportedBucket', {
  bucket: s3.Bucket.fromBucketName(variants, 'Imported', 'imported-landing'), prefix: 'in/', dagId: 'imported_data',
});
trigger.onModelPackageStatusChange('Approved', { modelPackageGroupName: 'variant-models', dagId: 'on_approved' });
trigger.onModelPackageStatusChange('Rejected', {
  modelPackageGroupName: 'variant-models', approvalStatus: ModelApprovalStatus.REJECTED, dagId: 'on_rejected',
});
trigger.onModelPackageStatusChange('Pending', {
  modelPackageGroupName: 'variant-models', approvalStatus: ModelApprovalStatus.PENDING_MANUAL_APPROVAL, dagId: 'on_pending',
});
trigger.onModelPackageStageChange('StageApproved', {
  modelPackageGroupName: 'variant-models', stages: ['dev', 'pre-prod', 'prod'], dagId: 'on_stage_approved',
});
trigger.onModelPackageStageChange('StagePending', {
  modelPackageGroupName: 'variant-models', stages: ['prod'], stageStatus: 'PendingApproval', dagId: 'on_stage_pending',
});
trigger.onEvent('Custom', { eventPattern: { source: ['acme.data'], detailType: ['Data Ready'] }, dagId: 'on_custom' });
const drift = new cloudwatch.Alarm(variants, 'DriftAlarm', {
  metric: new cloudwatch.Metric({ namespace: 'Acme/Drift', metricName: 'DriftedFeatureShare', period: Duration.days(1) }),
  threshold: 0.3,
  evaluationPeriods: 1,
});
trigger.onAlarm('OnDrift', { alarm: drift, dagId: 'on_drift' });
trigger.onAlarm('OnRecovery', {
  alarm: cloudwatch.Alarm.fromAlarmArn(variants, 'ImportedAlarm', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:imported-drift'),
  states: [cloudwatch.AlarmState.OK, cloudwatch.AlarmState.INSUFFICIENT_DATA],
  dagId: 'on_recovery',
});
trigger.onSchedule('Nightly', { schedule: events.Schedule.cron({ hour: '2', minute: '0' }), dagId: 'nightly' });

const build = new ModelBuildPipeline(variants, 'Build', {
  source: PipelineSource.newCodeCommitRepository({ repositoryName: 'variant-model' }),
});
const monitoring = new PipelineMonitoring(variants, 'Monitoring');
monitoring.monitorBuild(build);
monitoring.monitorWorkflow({
  pipelineName: 'scoring',
  environmentName: 'shared-mwaa',
  trainingDagId: 'scoring_training',
  glueJobName: 'scoring-preprocess',
  sagemakerJobNamePrefix: 'scoring-',
});

app.synth();
