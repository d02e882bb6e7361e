import { Arn, ArnFormat, Names, PhysicalName, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as mwaaserverless from 'aws-cdk-lib/aws-mwaaserverless';
import { Construct } from 'constructs';
import { IServerlessWorkflow } from './serverless-workflow-ref';
import { WorkflowCode, WorkflowDefinition } from './workflow-source';
import { EncryptedLogGroups } from '../private/encrypted-log-groups';

/** The service principal MWAA Serverless assumes a workflow's role as. */
const SERVICE = 'airflow-serverless.amazonaws.com';
/** The service's workflow names (botocore's `NameString`), less the `-<10 characters>` the ARN appends. */
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,79}$/;

/**
 * When a workflow runs. The service documents three modes (scheduled, manual only, disabled) but not their API
 * strings, so each constant here is the string this library sends; `of` takes any other.
 */
export class WorkflowTriggerMode {
  /** Runs only when started (`StartWorkflowRun`), whatever the definition's schedule says. */
  public static readonly MANUAL_ONLY = new WorkflowTriggerMode('manual-only');
  /** Runs on the definition's schedule, and when started. */
  public static readonly SCHEDULED = new WorkflowTriggerMode('scheduled');
  /** Does not run. Runs in flight go on (stop them with `StopWorkflowRun`). */
  public static readonly DISABLED = new WorkflowTriggerMode('disabled');

  /** A mode by its API string. */
  public static of(value: string): WorkflowTriggerMode {
    return new WorkflowTriggerMode(value);
  }

  private constructor(public readonly value: string) {}
}

/** Properties of a {@link ServerlessWorkflow}. */
export interface ServerlessWorkflowProps {
  /** The workflow's definition (dag-factory YAML). */
  readonly definition: WorkflowDefinition;
  /**
   * A code package for `PythonOperator` and `BashOperator` tasks.
   * @default - none
   */
  readonly code?: WorkflowCode;
  /**
   * The workflow's name, unique in the account and region (letters, digits, `.`, `_`, `-`; at most 80 characters).
   * Changing it replaces the workflow.
   * @default - a name derived from the construct's path
   */
  readonly workflowName?: string;
  /**
   * The workflow's description.
   * @default - none
   */
  readonly description?: string;
  /**
   * The role the workflow's tasks run as; it must trust `airflow-serverless.amazonaws.com`.
   * @default - a new role trusting the service for this workflow only (`aws:SourceAccount`, `aws:SourceArn`)
   */
  readonly role?: iam.IRole;
  /**
   * The key the service encrypts the workflow's data with, and its log group. Changing it replaces the workflow.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long the task logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * When the workflow runs.
   * @default WorkflowTriggerMode.MANUAL_ONLY
   */
  readonly triggerMode?: WorkflowTriggerMode;
}

/**
 * An Amazon MWAA Serverless workflow (`AWS::MWAAServerless::Workflow`): a dag-factory YAML definition run with no
 * environment, billed per task-second, nothing while idle. It comes with its own least-privilege role, a
 * KMS-encrypted log group with retention, and the key in its encryption configuration; grant the role what the tasks
 * call with `addToRolePolicy`.
 */
export class ServerlessWorkflow extends Resource implements IServerlessWorkflow {
  /** A workflow created elsewhere, by its ARN. */
  public static fromWorkflowArn(scope: Construct, id: string, workflowArn: string): IServerlessWorkflow {
    const resourceName = Arn.split(workflowArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName ?? '';
    class Imported extends Resource implements IServerlessWorkflow {
      public readonly workflowArn = workflowArn;
      // The ARN's name ends in `-<10 characters>` the service appends.
      public readonly workflowName = Token.isUnresolved(resourceName) ? resourceName : resourceName.replace(/-[a-zA-Z0-9]{10}$/, '');
      public grantStartRun(grantee: iam.IGrantable): iam.Grant {
        return grantStartRun(grantee, this.workflowArn);
      }
    }
    return new Imported(scope, id);
  }

  public readonly workflowArn: string;
  public readonly workflowName: string;
  /** The version CloudFormation last created (each changed definition, code or setting makes one). @attribute */
  public readonly workflowVersion: string;
  /** The role the tasks run as. */
  public readonly role: iam.IRole;
  /** The task logs. */
  public readonly logGroup: logs.ILogGroup;
  /** The key of the workflow and its logs. */
  public readonly encryptionKey: kms.IKey;
  /** The L1 resource. */
  public readonly cfnWorkflow: mwaaserverless.CfnWorkflow;

  constructor(scope: Construct, id: string, props: ServerlessWorkflowProps) {
    super(scope, id);
    this.workflowName = props.workflowName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    if (!Token.isUnresolved(this.workflowName) && !NAME_PATTERN.test(this.workflowName)) {
      throw new Error(`workflowName: '${this.workflowName}' is not a workflow name: a letter or digit, then letters, digits, '.', '_' or '-', at most 80 characters`);
    }
    const stack = Stack.of(this);
    this.role = props.role ?? new iam.Role(this, 'Role', {
      // A stage's deploy role in another account of the same app trusts this role by name: CDK names it only then.
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      description: `MWAA Serverless workflow ${this.workflowName}: what its tasks call`,
      assumedBy: new iam.ServicePrincipal(SERVICE).withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'airflow-serverless', resource: 'workflow', resourceName: `${this.workflowName}-*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        },
      }),
    });
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `MWAA Serverless workflow ${this.workflowName}: its data and logs`,
      enableKeyRotation: true,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: new EncryptedLogGroups(this, 'serverless', this.encryptionKey).name('tasks'),
      encryptionKey: this.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${this.logGroup.logGroupArn}`],
    }));
    // The service's own use of the key, on behalf of this workflow (kms:ViaService).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `airflow-serverless.${stack.region}.amazonaws.com` } },
    }));

    const definition = props.definition.bind(this, this.role);
    const code = props.code?.bind(this, this.role);
    this.cfnWorkflow = new mwaaserverless.CfnWorkflow(this, 'Resource', {
      name: this.workflowName,
      description: props.description,
      definitionS3Location: { bucket: definition.bucketName, objectKey: definition.objectKey, versionId: definition.versionId },
      roleArn: this.role.roleArn,
      encryptionConfiguration: { type: 'CUSTOMER_MANAGED_KEY', kmsKeyId: this.encryptionKey.keyArn },
      loggingConfiguration: { logGroupName: this.logGroup.logGroupName },
      triggerMode: (props.triggerMode ?? WorkflowTriggerMode.MANUAL_ONLY).value,
    });
    if (code) {
      // aws-cdk-lib 2.257 (the floor) predates the property; newer releases render it the same way.
      this.cfnWorkflow.addPropertyOverride('Code', {
        S3Location: { Bucket: code.bucketName, ObjectKey: code.objectKey, ...(code.versionId ? { VersionId: code.versionId } : {}) },
      });
    }
    // The service checks the role when the workflow is created: its policy must exist first, and so must the objects.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) this.cfnWorkflow.node.addDependency(policy);
    for (const source of [definition, code]) if (source?.writtenBy) this.cfnWorkflow.node.addDependency(source.writtenBy);

    this.workflowArn = this.cfnWorkflow.attrWorkflowArn;
    this.workflowVersion = this.cfnWorkflow.attrWorkflowVersion;
  }

  /** Lets `grantee` start runs of this workflow (`airflow-serverless:StartWorkflowRun` on this workflow only). */
  public grantStartRun(grantee: iam.IGrantable): iam.Grant {
    return grantStartRun(grantee, this.workflowArn);
  }

  /** Adds a statement to the workflow's role (what its tasks call). */
  public addToRolePolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    return this.role.addToPrincipalPolicy(statement);
  }
}

function grantStartRun(grantee: iam.IGrantable, workflowArn: string): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: [workflowArn] });
}
