import * as path from 'path';
import { Arn, ArnFormat, IResource, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { acknowledgeBucketDeploymentFindings } from './private/nag';

/** An object in S3 and the version of it that MWAA loads. */
export interface S3ObjectVersion {
  /** The object key. */
  readonly key: string;
  /** The S3 version id. */
  readonly versionId: string;
}

/** The Airflow RBAC roles MWAA maps IAM principals to. */
const AIRFLOW_ROLE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * An Amazon MWAA environment: one this stack created, or one imported with
 * `AirflowEnvironment.fromEnvironmentAttributes`.
 */
export interface IAirflowEnvironment extends IResource {
  /** The environment's name. */
  readonly environmentName: string;
  /** The environment's ARN. */
  readonly environmentArn: string;
  /** The key prefix of the DAG folder in the source bucket, ending in `/`. */
  readonly dagsPrefix: string;

  /**
   * Lets `grantee` start DAG runs through MWAA's `InvokeRestApi`: `airflow:InvokeRestApi` on the
   * environment's Airflow RBAC role, and nothing else.
   *
   * @param airflowRole the Airflow role the caller acts as; `User` is the least role that can create DAG runs
   * @default airflowRole - 'User'
   */
  grantTriggerDag(grantee: iam.IGrantable, airflowRole?: string): iam.Grant;

  /**
   * Lets `grantee` open the Airflow UI: `airflow:CreateWebLoginToken` on the environment's Airflow RBAC role.
   *
   * @param airflowRole the Airflow role the person acts as
   * @default airflowRole - 'Viewer'
   */
  grantWebUiAccess(grantee: iam.IGrantable, airflowRole?: string): iam.Grant;

  /** The ARN of one of the environment's Airflow RBAC roles, as IAM policies name it. */
  airflowRoleArn(airflowRole: string): string;

  /**
   * Adds a statement to the execution role's policy (e.g. to let DAG tasks call a service).
   * Has no effect on an imported environment whose role is unknown or immutable.
   */
  addToRolePolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult;

  /**
   * Deploys one file into the DAG folder, e.g. a per-pipeline JSON config beside a DAG factory.
   *
   * @param fileName the path below the DAG folder, e.g. `configs/churn.json`
   * @param content the file's content
   */
  addDagFile(fileName: string, content: string): void;

  /**
   * Deploys one JSON file into the DAG folder; deploy-time values (ARNs, names) in `content` are resolved and
   * JSON-escaped when the file is written.
   *
   * @param fileName the path below the DAG folder, e.g. `configs/churn.json`
   * @param content the object to write as JSON
   */
  addDagJsonFile(fileName: string, content: any): void;

  /** Deploys the contents of a local directory into the DAG folder, without Python caches (`__pycache__`, `*.pyc`). */
  addDagsFromDirectory(directory: string): void;
}

/** What the environment classes share: grants, and the deployment of DAG files. */
export abstract class AirflowEnvironmentBase extends Resource implements IAirflowEnvironment {
  public abstract readonly environmentName: string;
  public abstract readonly environmentArn: string;
  public readonly dagsPrefix: string = 'dags/';

  /** The bucket DAG files go to, when known. */
  protected abstract readonly dagBucket?: s3.IBucket;
  /** The role `addToRolePolicy` extends, when known. */
  protected abstract readonly policyRole?: iam.IRole;

  /** Whether the DAG deployment owns the DAG folder and may delete files it no longer ships. */
  protected abstract readonly ownsDagFolder: boolean;
  private dagDeployment?: s3deploy.BucketDeployment;

  public grantTriggerDag(grantee: iam.IGrantable, airflowRole: string = 'User'): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['airflow:InvokeRestApi'],
      resourceArns: [this.airflowRoleArn(airflowRole)],
    });
  }

  public grantWebUiAccess(grantee: iam.IGrantable, airflowRole: string = 'Viewer'): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['airflow:CreateWebLoginToken'],
      resourceArns: [this.airflowRoleArn(airflowRole)],
    });
  }

  public airflowRoleArn(airflowRole: string): string {
    if (!AIRFLOW_ROLE_PATTERN.test(airflowRole)) {
      throw new Error(`airflowRole: '${airflowRole}' is not an Airflow role name (e.g. 'User', 'Op', 'Admin')`);
    }
    // An imported environment may live in another account or region: take them from its ARN.
    const env = Token.isUnresolved(this.environmentArn) ? undefined : Arn.split(this.environmentArn, ArnFormat.SLASH_RESOURCE_NAME);
    return Stack.of(this).formatArn({
      service: 'airflow',
      resource: 'role',
      resourceName: `${this.environmentName}/${airflowRole}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      partition: env?.partition,
      region: env?.region,
      account: env?.account,
    });
  }

  public addToRolePolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (!this.policyRole) return { statementAdded: false };
    return this.policyRole.addToPrincipalPolicy(statement);
  }

  public addDagFile(fileName: string, content: string): void {
    this.addDagSource(s3deploy.Source.data(dagFilePath(fileName), content));
  }

  public addDagJsonFile(fileName: string, content: any): void {
    this.addDagSource(s3deploy.Source.jsonData(dagFilePath(fileName), content));
  }

  public addDagsFromDirectory(directory: string): void {
    // Python's caches differ per machine and per run: left in, they would change the asset (and redeploy) for nothing.
    this.addDagSource(s3deploy.Source.asset(directory, { exclude: ['__pycache__', '*.pyc'] }));
  }

  private addDagSource(source: s3deploy.ISource): void {
    if (this.dagDeployment) {
      this.dagDeployment.addSource(source);
      return;
    }
    if (!this.dagBucket) {
      throw new Error(
        `${this.node.path}: cannot deploy DAG files without the source bucket; pass sourceBucket to fromEnvironmentAttributes`,
      );
    }
    this.dagDeployment = new s3deploy.BucketDeployment(this, 'DagFiles', {
      sources: [source],
      destinationBucket: this.dagBucket,
      destinationKeyPrefix: this.dagsPrefix,
      prune: this.ownsDagFolder,
      retainOnDelete: true,
      memoryLimit: 512,
    });
    acknowledgeBucketDeploymentFindings(this.dagDeployment, this.dagBucket.encryptionKey !== undefined);
    this.onDagDeploymentCreated(this.dagDeployment);
  }

  /** A hook for the subclass to wire the DAG deployment (dependencies, findings). */
  protected onDagDeploymentCreated(_deployment: s3deploy.BucketDeployment): void {}
}

function dagFilePath(fileName: string): string {
  const normalized = path.posix.normalize(fileName);
  if (fileName === '' || normalized.startsWith('..') || path.posix.isAbsolute(normalized)) {
    throw new Error(`fileName: '${fileName}' must be a relative path inside the DAG folder, e.g. 'configs/pipeline.json'`);
  }
  return normalized;
}
