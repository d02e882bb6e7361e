import * as fs from 'fs';
import { Fn, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as mwaa from 'aws-cdk-lib/aws-mwaa';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { AirflowEnvironmentBase, IAirflowEnvironment, S3ObjectVersion } from './airflow-environment-base';
import { AirflowVersion } from './airflow-version';
import { EnvironmentClass } from './environment-class';
import { AirflowLogLevel, AirflowLoggingOptions } from './logging';
import { componentLogging } from './private/component-logging';
import { createExecutionRole, environmentArnFor, logGroupArnPattern } from './private/execution-role';
import { acknowledgeBucketDeploymentFindings, acknowledgeLogGroupDelete, acknowledgeProviderFindings } from './private/nag';
import { createDefaultVpc, selectEnvironmentSubnets } from './private/network';
import { validateCapacity, validateEnvironmentName, validateMaintenanceWindow, validateRequirements } from './private/validate';
import { headObjectVersion, putVersionedText } from './private/versioned-object';
import { createAccessLogBucket, createSecureBucket } from '../private/secure-bucket';

/** Who can reach the Airflow UI and API server. */
export enum WebserverAccessMode {
  /** Only from inside the VPC (through the VPC endpoint MWAA creates, or yours): the secure default. */
  PRIVATE_ONLY = 'PRIVATE_ONLY',
  /** From the internet, behind IAM-authenticated login. */
  PUBLIC_ONLY = 'PUBLIC_ONLY',
}

/** Who creates and manages the VPC endpoints of the environment. */
export enum EndpointManagement {
  /** MWAA creates the endpoints in your VPC. */
  SERVICE = 'SERVICE',
  /** You create them (shared VPCs, where MWAA may not create endpoints). */
  CUSTOMER = 'CUSTOMER',
}

/** Properties of an `AirflowEnvironment`. */
export interface AirflowEnvironmentProps {
  /**
   * The environment's name: a letter, then letters, digits, `-` and `_`, at most 80 characters.
   * Changing it replaces the environment.
   * @default - a name unique in the account, derived from the construct path
   */
  readonly environmentName?: string;
  /**
   * The Apache Airflow version.
   * @default AirflowVersion.LATEST
   */
  readonly airflowVersion?: AirflowVersion;
  /**
   * The environment class (size).
   * @default EnvironmentClass.MW1_SMALL
   */
  readonly environmentClass?: EnvironmentClass;
  /**
   * The fewest workers MWAA keeps running.
   * @default 1
   */
  readonly minWorkers?: number;
  /**
   * The most workers MWAA scales out to.
   * @default 10 (1 for mw1.micro)
   */
  readonly maxWorkers?: number;
  /**
   * The number of schedulers.
   * @default 2 (1 for mw1.micro)
   */
  readonly schedulers?: number;
  /**
   * The fewest webservers (Airflow 3: API servers).
   * @default - MWAA's default: 2 (1 for mw1.micro)
   */
  readonly minWebservers?: number;
  /**
   * The most webservers (Airflow 3: API servers) MWAA scales out to.
   * @default - MWAA's default: 2 (1 for mw1.micro)
   */
  readonly maxWebservers?: number;
  /**
   * Who can reach the Airflow UI and API server.
   * @default WebserverAccessMode.PRIVATE_ONLY
   */
  readonly webserverAccessMode?: WebserverAccessMode;
  /**
   * Who manages the environment's VPC endpoints. Changing it replaces the environment.
   * @default EndpointManagement.SERVICE
   */
  readonly endpointManagement?: EndpointManagement;
  /**
   * Airflow configuration overrides, `section.key` to value, e.g. `{ 'core.default_task_retries': '2' }`.
   * @default - none
   */
  readonly airflowConfigurationOptions?: { [key: string]: string };
  /**
   * The weekly start of maintenance, `DAY:HH:MM` in UTC in 30-minute steps, e.g. `SUN:03:00`.
   * @default - MWAA picks a window
   */
  readonly weeklyMaintenanceWindowStart?: string;
  /**
   * The CloudWatch log level of each Airflow component.
   * @default - every component at INFO
   */
  readonly logging?: AirflowLoggingOptions;
  /**
   * How long the environment's log groups (and the VPC flow logs this construct creates) keep events.
   * MWAA creates its log groups with no expiry; the construct sets this retention on them.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The VPC to run in.
   * @default - a new VPC: two AZs, private subnets with egress through one NAT gateway, an S3 gateway endpoint and flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` to use: they must come to exactly two private subnets in two AZs. Changing them replaces the environment.
   * @default - the private subnets with egress of `vpc`
   */
  readonly subnetSelection?: ec2.SubnetSelection;
  /**
   * Security groups for the environment.
   * @default - a new security group that lets the environment's components reach each other
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The bucket MWAA loads DAGs, plugins and requirements from: versioned, with public access blocked.
   * @default - a new versioned, encrypted, SSL-only, private bucket, retained on delete
   */
  readonly sourceBucket?: s3.IBucket;
  /**
   * Where the new source bucket writes its server access logs (unused when `sourceBucket` is given).
   * @default - a new private access-log bucket
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * A customer managed key for the environment (its metadata, queues and logs) and the new source bucket.
   * Changing it replaces the environment.
   * @default - MWAA uses an AWS owned key; the new bucket uses the AWS managed key for S3
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The role MWAA runs as. It must trust `airflow.amazonaws.com` and `airflow-env.amazonaws.com`.
   * @default - a new role with the permissions the MWAA documentation lists, scoped to this environment
   */
  readonly executionRole?: iam.IRole;
  /**
   * A local directory whose contents are deployed to the DAG folder.
   * @default - no DAGs; add them later with `addDagsFromDirectory` or `addDagFile`
   */
  readonly dagsDirectory?: string;
  /**
   * Python requirements, one pip requirement per entry. The construct writes them to `requirements.txt`
   * after the `--constraint` line of the chosen Airflow version.
   * @default - none: requirements.txt holds only the constraint line
   */
  readonly requirements?: string[];
  /**
   * A local shell script MWAA runs on each component before Airflow starts.
   * @default - no startup script
   */
  readonly startupScriptFile?: string;
  /**
   * A local directory of Airflow plugins, deployed as `plugins.zip`.
   * @default - no plugins
   */
  readonly pluginsDirectory?: string;
  /**
   * What a stack delete does to the buckets and log groups this construct creates, and to MWAA's log groups.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Tags for the environment.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
}

/** Attributes of an existing MWAA environment, for `AirflowEnvironment.fromEnvironmentAttributes`. */
export interface AirflowEnvironmentAttributes {
  /** The environment's name. */
  readonly environmentName: string;
  /**
   * The environment's ARN.
   * @default - built from the name, in this stack's account and region
   */
  readonly environmentArn?: string;
  /**
   * The environment's source bucket: needed to deploy DAG files to it.
   * @default - unknown; `addDagFile` and `addDagsFromDirectory` throw
   */
  readonly sourceBucket?: s3.IBucket;
  /**
   * The environment's execution role, to add permissions for new DAGs.
   * @default - unknown; `addToRolePolicy` has no effect
   */
  readonly executionRole?: iam.IRole;
  /**
   * The Airflow version the environment runs, so constructs that deploy DAGs can check they support it.
   * @default - unknown; constructs that deploy DAGs warn at synth
   */
  readonly airflowVersion?: AirflowVersion;
}

/**
 * An Amazon MWAA (managed Apache Airflow) environment with the defaults a security review signs off:
 * private webserver, private subnets, versioned SSL-only encrypted bucket, least-privilege execution role,
 * all component logs at INFO with finite retention, and requirements pinned by S3 object version.
 */
export class AirflowEnvironment extends AirflowEnvironmentBase {
  /** Refers to an environment created elsewhere, so that several pipelines can share it. */
  public static fromEnvironmentAttributes(scope: Construct, id: string, attrs: AirflowEnvironmentAttributes): IAirflowEnvironment {
    validateEnvironmentName(attrs.environmentName);
    class Import extends AirflowEnvironmentBase {
      public readonly environmentName = attrs.environmentName;
      public readonly airflowVersion = attrs.airflowVersion;
      public readonly executionRole = attrs.executionRole;
      public readonly environmentArn = attrs.environmentArn ?? environmentArnFor(scope, attrs.environmentName);
      protected readonly dagBucket = attrs.sourceBucket;
      protected readonly policyRole = attrs.executionRole;
      protected readonly ownsDagFolder = false;
    }
    return new Import(scope, id);
  }

  public readonly environmentName: string;
  public readonly environmentArn: string;
  /** The bucket MWAA loads DAGs, plugins and requirements from. */
  public readonly sourceBucket: s3.IBucket;
  /** The Airflow version the environment runs. */
  public readonly airflowVersion: AirflowVersion;
  /** The environment class (size). */
  public readonly environmentClass: EnvironmentClass;
  /** The role MWAA runs as. */
  public readonly executionRole: iam.IRole;
  /** The environment's VPC. */
  public readonly vpc: ec2.IVpc;
  /** The environment's network connections (its security groups), to open other resources to it. */
  public readonly connections: ec2.Connections;
  /** The customer managed key of the environment, if one was given. */
  public readonly encryptionKey?: kms.IKey;
  /** The URL of the Airflow UI (for a private environment, reachable only from the VPC). */
  public readonly webserverUrl: string;
  /** Where `requirements.txt` lives and the version MWAA loads. */
  public readonly requirementsObject: S3ObjectVersion;
  /** The underlying CloudFormation resource. */
  public readonly cfnEnvironment: mwaa.CfnEnvironment;
  protected readonly ownsDagFolder = true;
  private readonly requirementLines: string[];

  constructor(scope: Construct, id: string, props: AirflowEnvironmentProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.airflowVersion = props.airflowVersion ?? AirflowVersion.LATEST;
    this.environmentClass = props.environmentClass ?? EnvironmentClass.MW1_SMALL;
    this.encryptionKey = props.encryptionKey;
    this.environmentName = props.environmentName ?? defaultEnvironmentName(this);
    validateEnvironmentName(this.environmentName);
    validateMaintenanceWindow(props.weeklyMaintenanceWindowStart);
    validateRequirements(props.requirements ?? []);
    validateConfigurationOptions(props.airflowConfigurationOptions);
    const capacity = {
      minWorkers: props.minWorkers ?? 1,
      maxWorkers: props.maxWorkers ?? Math.min(10, this.environmentClass.maxWorkersLimit),
      schedulers: props.schedulers ?? this.environmentClass.minSchedulersLimit,
      minWebservers: props.minWebservers,
      maxWebservers: props.maxWebservers,
    };
    validateCapacity(this.environmentClass, capacity);

    this.vpc = props.vpc ?? createDefaultVpc(this, retention, removalPolicy, this.encryptionKey);
    const subnets = selectEnvironmentSubnets(this.vpc, props.subnetSelection);
    const securityGroups = props.securityGroups ?? [this.createSecurityGroup()];
    this.connections = new ec2.Connections({ securityGroups });

    this.sourceBucket = props.sourceBucket
      ? checkSourceBucket(props.sourceBucket)
      : this.createSourceBucket(removalPolicy, props.serverAccessLogsBucket);

    const created = props.executionRole ? undefined : createExecutionRole(this, {
      environmentName: this.environmentName,
      environmentArn: environmentArnFor(this, this.environmentName),
      bucket: this.sourceBucket,
      encryptionKey: this.encryptionKey,
    });
    this.executionRole = props.executionRole ?? created!.role;
    if (this.encryptionKey) this.allowLogsToUseKey(this.encryptionKey);

    this.requirementLines = [...(props.requirements ?? [])];
    // Lazy, so that constructs deploying DAGs can add what their DAGs import (addRequirements).
    const requirementsText = Lazy.string({
      produce: () => [this.airflowVersion.constraintLine, ...this.requirementLines].join('\n') + '\n',
    });
    this.requirementsObject = putVersionedText(
      this, 'Requirements', this.sourceBucket, 'requirements/requirements.txt', requirementsText, this.encryptionKey,
    );
    const startup = props.startupScriptFile
      ? putVersionedText(this, 'StartupScript', this.sourceBucket, 'startup/startup.sh', readFile('startupScriptFile', props.startupScriptFile), this.encryptionKey)
      : undefined;
    const plugins = props.pluginsDirectory ? this.deployPlugins(props.pluginsDirectory) : undefined;

    const logging = componentLogging(props.logging);
    this.cfnEnvironment = new mwaa.CfnEnvironment(this, 'Resource', {
      name: this.environmentName,
      airflowVersion: this.airflowVersion.version,
      environmentClass: this.environmentClass.name,
      executionRoleArn: this.executionRole.roleArn,
      sourceBucketArn: this.sourceBucket.bucketArn,
      dagS3Path: this.dagsPrefix.replace(/\/$/, ''),
      requirementsS3Path: this.requirementsObject.key,
      requirementsS3ObjectVersion: this.requirementsObject.versionId,
      startupScriptS3Path: startup?.key,
      startupScriptS3ObjectVersion: startup?.versionId,
      pluginsS3Path: plugins?.key,
      pluginsS3ObjectVersion: plugins?.versionId,
      networkConfiguration: {
        subnetIds: subnets.subnetIds,
        securityGroupIds: securityGroups.map((sg) => sg.securityGroupId),
      },
      webserverAccessMode: props.webserverAccessMode ?? WebserverAccessMode.PRIVATE_ONLY,
      endpointManagement: props.endpointManagement,
      kmsKey: this.encryptionKey?.keyArn,
      ...capacity,
      weeklyMaintenanceWindowStart: props.weeklyMaintenanceWindowStart,
      airflowConfigurationOptions: props.airflowConfigurationOptions,
      loggingConfiguration: Object.fromEntries(logging.map((c) => [c.configKey, {
        enabled: c.level !== AirflowLogLevel.DISABLED,
        logLevel: c.level === AirflowLogLevel.DISABLED ? undefined : c.level,
      }])),
      tags: props.tags,
    });
    // MWAA checks the role's permissions while it creates the environment.
    if (created) this.cfnEnvironment.node.addDependency(created.policy);
    this.environmentArn = this.cfnEnvironment.attrArn;
    this.webserverUrl = this.cfnEnvironment.attrWebserverUrl;

    for (const c of logging.filter((l) => l.level !== AirflowLogLevel.DISABLED)) {
      // MWAA creates its log groups itself, with no expiry; set the retention once they exist.
      const logRetention = new logs.LogRetention(this, `${c.logGroupSuffix}LogRetention`, {
        logGroupName: `airflow-${this.environmentName}-${c.logGroupSuffix}`,
        retention,
        removalPolicy,
      });
      logRetention.node.addDependency(this.cfnEnvironment);
      if (removalPolicy === RemovalPolicy.DESTROY) acknowledgeLogGroupDelete(this, `airflow-${this.environmentName}-${c.logGroupSuffix}`);
    }

    if (props.dagsDirectory) this.addDagsFromDirectory(props.dagsDirectory);
    acknowledgeProviderFindings(Stack.of(this), this.encryptionKey !== undefined);
  }

  /**
   * Adds pip requirements after the constraint line of `requirements.txt` (each once; a line already there is
   * not repeated). MWAA installs them, resolved under the constraints of the environment's Airflow version.
   */
  public addRequirements(...requirements: string[]): void {
    validateRequirements(requirements);
    for (const line of requirements) {
      if (!this.requirementLines.includes(line)) this.requirementLines.push(line);
    }
  }

  /** The requirement lines after the constraint line. */
  public get requirements(): string[] {
    return [...this.requirementLines];
  }

  protected get dagBucket(): s3.IBucket | undefined {
    return this.sourceBucket;
  }

  protected get policyRole(): iam.IRole | undefined {
    return this.executionRole;
  }

  protected onDagDeploymentCreated(deployment: s3deploy.BucketDeployment): void {
    // DAGs land before the environment starts parsing.
    this.cfnEnvironment.node.addDependency(deployment);
  }

  private createSecurityGroup(): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'MWAA environment: its components reach each other and AWS services',
      allowAllOutbound: true,
    });
    sg.addIngressRule(sg, ec2.Port.allTraffic(), 'MWAA components reach each other (self-referencing rule MWAA requires)');
    return sg;
  }

  private createSourceBucket(removalPolicy: RemovalPolicy, accessLogs?: s3.IBucket): s3.Bucket {
    return createSecureBucket(this, 'SourceBucket', {
      removalPolicy,
      encryptionKey: this.encryptionKey,
      accessLogs: accessLogs ?? createAccessLogBucket(this, 'AccessLogsBucket', removalPolicy),
      accessLogPrefix: 'source-bucket/',
    });
  }

  private allowLogsToUseKey(key: kms.IKey): void {
    const stack = Stack.of(this);
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: `AllowMwaaLogs${Names.uniqueId(this).slice(-24)}`,
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArnPattern(this, this.environmentName) } },
    }));
  }

  private deployPlugins(directory: string): S3ObjectVersion {
    const deployment = new s3deploy.BucketDeployment(this, 'Plugins', {
      sources: [s3deploy.Source.asset(directory)],
      destinationBucket: this.sourceBucket,
      destinationKeyPrefix: 'plugins/',
      extract: false,
      prune: false,
      retainOnDelete: true,
    });
    acknowledgeBucketDeploymentFindings(deployment, this.encryptionKey !== undefined);
    const key = Fn.select(0, deployment.objectKeys);
    return headObjectVersion(this, 'PluginsVersion', this.sourceBucket, `plugins/${key}`, 'plugins/', deployment, this.encryptionKey);
  }
}

function defaultEnvironmentName(scope: Construct): string {
  const name = Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' });
  return /^[a-zA-Z]/.test(name) ? name : `mwaa-${name}`;
}

function readFile(prop: string, file: string): string {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new Error(`${prop}: '${file}' is not a readable file`);
  }
  return fs.readFileSync(file, 'utf-8');
}

function validateConfigurationOptions(options: { [key: string]: string } | undefined): void {
  for (const key of Object.keys(options ?? {})) {
    if (!/^[a-z_]+\.[a-zA-Z0-9_.-]+$/.test(key)) {
      throw new Error(`airflowConfigurationOptions: '${key}' is not 'section.key' (e.g. 'core.default_task_retries')`);
    }
  }
}

/** Refuses a bucket this app defines without versioning or with public access allowed (MWAA requires both). */
function checkSourceBucket(bucket: s3.IBucket): s3.IBucket {
  const cfn = bucket.node.defaultChild;
  if (!(cfn instanceof s3.CfnBucket)) return bucket; // imported: MWAA checks it at deploy time
  const stack = Stack.of(bucket);
  const block = stack.resolve(cfn.publicAccessBlockConfiguration) ?? {};
  const flags = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'];
  const open = flags.filter((f) => block[f] !== true && !Token.isUnresolved(block[f]));
  if (open.length > 0) {
    throw new Error(`sourceBucket: ${bucket.node.path} does not block public access (${open.join(', ')} not set); MWAA requires s3.BlockPublicAccess.BLOCK_ALL`);
  }
  const versioning = stack.resolve(cfn.versioningConfiguration);
  if (versioning?.status !== 'Enabled') {
    throw new Error(`sourceBucket: ${bucket.node.path} is not versioned; MWAA requires a versioned source bucket (versioned: true)`);
  }
  return bucket;
}
