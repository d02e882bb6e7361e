"""The example app of examples/app.ts in Python: the same stacks, the same props, the same outputs.

Run: pip install -r requirements.txt <the cdk-mwaa-mlops wheel>; python app.py (templates land in CDK_OUTDIR or cdk.out).
"""

import os

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from cdk_mwaa_mlops import (
    AirflowEnvironment,
    AirflowVersion,
    DeploymentStage,
    DriftDetectionOptions,
    EndpointDeployment,
    ModelApproval,
    ModelWorkflowOptions,
    MwaaMlopsPipeline,
    Orchestration,
    PipelineSource,
    PromotionGate,
    PromotionTarget,
    StageChecks,
    TrafficShifting,
)
from constructs import Construct

# A placeholder CodeConnections connection, so the example synthesizes with no account. Deploy with your own:
# `cdk deploy -c connectionArn=arn:aws:codeconnections:<region>:<account>:connection/<id>` (created and authorized
# in the console: Developer Tools, Settings, Connections).
EXAMPLE_CONNECTION_ARN = "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"


class MwaaMlopsExampleStack(Stack):
    """The quick start: the whole loop on its defaults."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        kwargs.setdefault("description", "cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA, on its defaults")
        super().__init__(scope, construct_id, **kwargs)
        self.pipeline = MwaaMlopsPipeline(self, "Churn")
        pipeline_outputs(self.pipeline)


class MwaaMlopsServerlessExampleStack(Stack):
    """The same loop on Amazon MWAA Serverless: no environment, VPC or NAT gateway, so it costs close to nothing while idle.

    A real-time endpoint, rolled out blue/green with a canary, once a person approves the model.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        kwargs.setdefault("description", "cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA Serverless")
        super().__init__(scope, construct_id, **kwargs)
        self.pipeline = MwaaMlopsPipeline(self, "Churn", orchestration=Orchestration.serverless())
        pipeline_outputs(self.pipeline)


class MwaaMlopsSharedExampleStack(Stack):
    """Several pipelines on one environment.

    A GitHub repository (through CodeConnections) deploying to a serverless endpoint with automatic approval, and the
    starter in CodeCommit deploying to a real-time endpoint after a person approves, with a canary rollout.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        kwargs.setdefault("description", "cdk-mwaa-mlops example: two pipelines on one shared Amazon MWAA environment")
        super().__init__(scope, construct_id, **kwargs)
        self.airflow = AirflowEnvironment(self, "Airflow", airflow_version=AirflowVersion.V3_3_1)

        connection_arn = self.node.try_get_context("connectionArn")
        self.fraud = MwaaMlopsPipeline(
            self,
            "Fraud",
            environment=self.airflow,
            source=PipelineSource.connection(
                connection_arn=connection_arn if connection_arn is not None else EXAMPLE_CONNECTION_ARN,
                owner="acme",
                repository="fraud-model",
            ),
            workflow=ModelWorkflowOptions(
                deployment=EndpointDeployment.serverless(memory_size_mb=2048, max_concurrency=10),
                approval=ModelApproval.AUTOMATIC,
            ),
        )
        self.demand = MwaaMlopsPipeline(
            self,
            "Demand",
            environment=self.airflow,
            workflow=ModelWorkflowOptions(
                approval=ModelApproval.MANUAL,
                deployment=EndpointDeployment.real_time(traffic_shifting=TrafficShifting.canary(20, Duration.minutes(10))),
                # A fifth of the requests captured, checked daily against each model's training data; drift starts training.
                drift=DriftDetectionOptions(sampling_percentage=20),
            ),
        )
        # The shared environment is watched once: its alarms go to the first pipeline's topic.
        self.fraud.monitoring.monitor_environment(self.airflow)
        CfnOutput(self, "WebserverUrl", value=self.airflow.webserver_url)
        pipeline_outputs(self.fraud)
        pipeline_outputs(self.demand)


# The accounts of the promotion example: replace them with yours (`cdk deploy` needs each one bootstrapped).
PROMOTION_ACCOUNTS = {"pipeline": "111111111111", "staging": "222222222222", "production": "333333333333"}
PROMOTION_REGION = "eu-west-1"
# The production endpoint, shared by the pipeline's stage and the production account's target.
PRODUCTION = EndpointDeployment.real_time(
    initial_instance_count=2, traffic_shifting=TrafficShifting.linear(25, Duration.minutes(5))
)


class MwaaMlopsPromotionExampleStack(Stack):
    """Promotion through three stages: dev in the pipeline's account, staging and production in accounts of their own.

    An approved model deploys to dev; when dev's checks pass, it moves on to staging by itself; staging's checks pass,
    and it waits in the registry for a person to approve production. The pipeline runs on MWAA Serverless.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        kwargs.setdefault(
            "description", "cdk-mwaa-mlops example: promotion from dev through staging to production, each in its own account"
        )
        kwargs.setdefault("env", Environment(account=PROMOTION_ACCOUNTS["pipeline"], region=PROMOTION_REGION))
        super().__init__(scope, construct_id, **kwargs)
        self.pipeline = MwaaMlopsPipeline(
            self,
            "Churn",
            orchestration=Orchestration.serverless(),
            workflow=ModelWorkflowOptions(
                stages=[
                    DeploymentStage(name="dev", deployment=EndpointDeployment.serverless(), gate=PromotionGate.AUTOMATIC),
                    DeploymentStage(name="staging", account=PROMOTION_ACCOUNTS["staging"], gate=PromotionGate.MANUAL),
                    DeploymentStage(
                        name="production",
                        account=PROMOTION_ACCOUNTS["production"],
                        deployment=PRODUCTION,
                        checks=StageChecks(sample_rows=100, max_error_rate=0.01, max_average_latency=Duration.millis(300)),
                    ),
                ]
            ),
        )
        pipeline_outputs(self.pipeline)


class MwaaMlopsPromotionTargetStack(Stack):
    """A stage's side in its own account: the role the pipeline's runs assume there, the model role, alarms and clean-up."""

    def __init__(self, scope: Construct, construct_id: str, pipeline: MwaaMlopsPipeline, stage_name: str, **kwargs) -> None:
        kwargs.setdefault("description", f"cdk-mwaa-mlops example: the {stage_name} stage of pipeline {pipeline.pipeline_name}")
        kwargs.setdefault("env", Environment(account=PROMOTION_ACCOUNTS[stage_name], region=PROMOTION_REGION))
        super().__init__(scope, construct_id, **kwargs)
        self.target = PromotionTarget(
            self,
            "Stage",
            pipeline_name=pipeline.pipeline_name,
            stage_name=stage_name,
            pipeline_account=PROMOTION_ACCOUNTS["pipeline"],
            pipeline_roles=pipeline.deployment_run_roles,
            deployment=PRODUCTION if stage_name == "production" else None,
        )
        CfnOutput(self, "EndpointName", value=self.target.endpoint_name)


def pipeline_outputs(pipeline: MwaaMlopsPipeline) -> None:
    """What an operator looks up after the deploy: where to push code and data, and what to watch."""
    scope = Construct(pipeline.node.scope, f"{pipeline.node.id}Outputs")

    def output(output_id: str, value: str | None) -> None:
        if value:
            CfnOutput(scope, output_id, value=value)

    environment = pipeline.environment
    output("EnvironmentName", environment.environment_name if environment else None)
    if isinstance(environment, AirflowEnvironment) and environment.node.scope is pipeline:
        output("WebserverUrl", environment.webserver_url)
    training, deployment = pipeline.workflow.training_workflow, pipeline.workflow.deployment_workflow
    output("TrainingWorkflow", training.workflow_arn if training else None)
    output("DeploymentWorkflow", deployment.workflow_arn if deployment else None)
    source_repository = pipeline.model_build.source_repository
    output("SourceRepository", source_repository.repository_clone_url_grc if source_repository else None)
    output("ModelImageRepository", pipeline.model_build.image_repository.repository_uri)
    output("RawData", f"s3://{pipeline.workflow.data_bucket.bucket_name}/{pipeline.workflow.raw_data_prefix}")
    output("ModelPackageGroup", pipeline.workflow.model_package_group_name)
    output("EndpointName", pipeline.workflow.endpoint_name)
    output("FailureTopic", pipeline.topic.topic_arn)
    output("Dashboard", pipeline.monitoring.dashboard.dashboard_name)
    output("TriggerDeadLetterQueue", pipeline.trigger.dead_letter_queue.queue_url)


def create_example_app() -> App:
    """Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`."""
    app = App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    MwaaMlopsExampleStack(app, "MwaaMlopsExample")
    MwaaMlopsSharedExampleStack(app, "MwaaMlopsSharedExample")
    MwaaMlopsServerlessExampleStack(app, "MwaaMlopsServerlessExample")
    promotion = MwaaMlopsPromotionExampleStack(app, "MwaaMlopsPromotionExample")
    MwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionStaging", promotion.pipeline, "staging")
    MwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionProduction", promotion.pipeline, "production")
    return app


if __name__ == "__main__":
    create_example_app().synth()
