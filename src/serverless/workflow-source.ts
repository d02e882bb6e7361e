import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeBucketDeploymentFindings } from '../airflow/private/nag';

/** Where a workflow's definition or code is in S3, once bound to a workflow. */
export interface WorkflowSourceConfig {
  /** The bucket's name. */
  readonly bucketName: string;
  /** The object's key. */
  readonly objectKey: string;
  /**
   * The object's version.
   * @default - the latest version
   */
  readonly versionId?: string;
  /**
   * What writes the object, when this app does: the workflow is created after it.
   * @default - nothing: the object exists already
   */
  readonly writtenBy?: IConstruct;
}

/** Options of `WorkflowDefinition.fromObject`. */
export interface WorkflowDefinitionObjectOptions {
  /** The bucket the definition is written to (versioned, encrypted, private: e.g. the pipeline's data bucket). */
  readonly bucket: s3.IBucket;
  /**
   * The key prefix; the object's name is a hash of the definition's content.
   * @default 'workflows/'
   */
  readonly keyPrefix?: string;
}

/**
 * A workflow's definition: the dag-factory YAML document MWAA Serverless runs.
 *
 * The service reads the definition when the workflow is created or updated, never afterwards, so a changed definition
 * must arrive under a new key for a new workflow version to pick it up. Every choice here keys the object by its
 * content, except `fromBucket`, whose key and version the caller controls.
 */
export abstract class WorkflowDefinition {
  /** A YAML file on disk, uploaded as a CDK asset (the asset's key is the hash of its content). */
  public static fromAsset(path: string): WorkflowDefinition {
    return new AssetDefinition(path);
  }

  /**
   * A definition built in the app, which may hold deploy-time values (ARNs, names), written as JSON (which is YAML) to
   * `<keyPrefix><hash>.yaml` by a `BucketDeployment`; the hash is of the definition with its deploy-time values as
   * CloudFormation expressions, so the key changes exactly when the definition does.
   */
  public static fromObject(definition: { [key: string]: any }, options: WorkflowDefinitionObjectOptions): WorkflowDefinition {
    return new ObjectDefinition(definition, options);
  }

  /** A definition already in S3. A changed object takes effect only with a new `versionId` (or key). */
  public static fromBucket(bucket: s3.IBucket, objectKey: string, versionId?: string): WorkflowDefinition {
    return new BucketDefinition(bucket, objectKey, versionId);
  }

  /** Makes the definition readable by `role` and returns its location. */
  public abstract bind(scope: Construct, role: iam.IRole): WorkflowSourceConfig;
}

/**
 * A workflow's code package (`Code`): one `.py` file, one `.sh` file, or a `.zip` with modules at its root, which the
 * service extracts to `/usr/local/airflow/dags` for `PythonOperator` and `BashOperator` tasks.
 */
export abstract class WorkflowCode {
  /** A local file, or a directory zipped with its contents at the root, uploaded as a CDK asset. */
  public static fromAsset(path: string, options: s3assets.AssetOptions = {}): WorkflowCode {
    return new AssetCode(path, options);
  }

  /** A package already in S3. A changed object takes effect only with a new `versionId` (or key). */
  public static fromBucket(bucket: s3.IBucket, objectKey: string, versionId?: string): WorkflowCode {
    return new BucketCode(bucket, objectKey, versionId);
  }

  /** Makes the package readable by `role` and returns its location. */
  public abstract bind(scope: Construct, role: iam.IRole): WorkflowSourceConfig;
}

/* Each choice is a subclass of the class it is returned as: jsii hands objects to other languages by their class. */

class AssetDefinition extends WorkflowDefinition {
  constructor(private readonly path: string) { super(); }
  public bind(scope: Construct, role: iam.IRole): WorkflowSourceConfig {
    return bindAsset(scope, 'Definition', role, { path: this.path });
  }
}

class AssetCode extends WorkflowCode {
  constructor(private readonly path: string, private readonly options: s3assets.AssetOptions) { super(); }
  public bind(scope: Construct, role: iam.IRole): WorkflowSourceConfig {
    return bindAsset(scope, 'Code', role, { ...this.options, path: this.path });
  }
}

class BucketDefinition extends WorkflowDefinition {
  constructor(private readonly bucket: s3.IBucket, private readonly objectKey: string, private readonly versionId?: string) { super(); }
  public bind(_scope: Construct, role: iam.IRole): WorkflowSourceConfig {
    return bindObject(role, this.bucket, this.objectKey, this.versionId);
  }
}

class BucketCode extends WorkflowCode {
  constructor(private readonly bucket: s3.IBucket, private readonly objectKey: string, private readonly versionId?: string) { super(); }
  public bind(_scope: Construct, role: iam.IRole): WorkflowSourceConfig {
    return bindObject(role, this.bucket, this.objectKey, this.versionId);
  }
}

class ObjectDefinition extends WorkflowDefinition {
  constructor(private readonly definition: { [key: string]: any }, private readonly options: WorkflowDefinitionObjectOptions) { super(); }

  public bind(scope: Construct, role: iam.IRole): WorkflowSourceConfig {
    const prefix = this.options.keyPrefix ?? 'workflows/';
    const resolved = JSON.stringify(Stack.of(scope).resolve(this.definition));
    const objectKey = `${prefix}${createHash('sha256').update(resolved).digest('hex').slice(0, 32)}.yaml`;
    const deployment = new s3deploy.BucketDeployment(scope, 'DefinitionDeployment', {
      sources: [s3deploy.Source.jsonData(objectKey, this.definition)],
      destinationBucket: this.options.bucket,
      // Earlier definitions stay: the workflow's earlier versions name them.
      prune: false,
    });
    acknowledgeBucketDeploymentFindings(deployment, this.options.bucket.encryptionKey !== undefined);
    return { ...bindObject(role, this.options.bucket, objectKey), writtenBy: deployment };
  }
}

function bindAsset(scope: Construct, id: string, role: iam.IRole, props: s3assets.AssetProps): WorkflowSourceConfig {
  const asset = new s3assets.Asset(scope, id, props);
  return bindObject(role, asset.bucket, asset.s3ObjectKey);
}

function bindObject(role: iam.IRole, bucket: s3.IBucket, objectKey: string, versionId?: string): WorkflowSourceConfig {
  grantObjectRead(role, bucket, objectKey);
  return { bucketName: bucket.bucketName, objectKey, versionId };
}

/**
 * Who reads the definition and the code, the caller of CreateWorkflow or the workflow's role, is not documented; the
 * role gets read access to exactly these objects (and the bucket's key, through S3 only).
 */
function grantObjectRead(role: iam.IRole, bucket: s3.IBucket, objectKey: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resources: [bucket.arnForObjects(objectKey)],
  }));
  if (bucket.encryptionKey) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [bucket.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` } },
    }));
  }
}
