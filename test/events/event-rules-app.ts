/*
 * Every EventBridge rule the constructs create, synthesized for test/events/test_event_patterns.py: the example app's
 * stacks as they are, plus the rule options the example leaves out (S3 source, custom raw prefix, image tag prefixes,
 * each approval status, no prefix, an imported bucket, custom patterns, a standalone PipelineMonitoring).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MwaaMlopsExampleStack, MwaaMlopsSharedExampleStack } from '../../examples/app';
import {
  AirflowEnvironment, DagTrigger, ModelApprovalStatus, ModelBuildPipeline, MwaaMlopsPipeline, PipelineMonitoring, PipelineSource,
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
trigger.onEvent('Custom', { eventPattern: { source: ['acme.data'], detailType: ['Data Ready'] }, dagId: 'on_custom' });

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
