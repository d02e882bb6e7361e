"""The example app of examples/app.ts in Python: the same stacks, the same props.

Run: pip install -r requirements.txt <the cdk-mwaa-mlops wheel>; python app.py (templates land in CDK_OUTDIR or cdk.out).
"""

import os

from aws_cdk import App, CfnOutput, Stack
from cdk_mwaa_mlops import AirflowEnvironment, AirflowVersion, DagTrigger, ModelBuildPipeline, PipelineSource
from constructs import Construct

DESCRIPTION = "cdk-mwaa-mlops example: an Amazon MWAA environment, a model build pipeline and the triggers between them"


class MwaaMlopsExampleStack(Stack):
    """The example: an MWAA environment on the library's defaults, and the events that start its DAGs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id, description=DESCRIPTION)
        self.airflow = AirflowEnvironment(
            self,
            "Airflow",
            airflow_version=AirflowVersion.V3_3_1,
            requirements=["apache-airflow-providers-amazon"],
        )

        self.build = ModelBuildPipeline(
            self,
            "ModelBuild",
            source=PipelineSource.new_code_commit_repository(repository_name="mlops-model"),
        )
        images = self.build.image_repository
        self.trigger = DagTrigger(self, "Trigger", environment=self.airflow)
        self.trigger.on_image_pushed("NewModelImage", repository=images, dag_id="mlops_training")
        self.trigger.on_model_package_status_change(
            "ModelApproved", model_package_group_name="mlops-models", dag_id="mlops_deployment"
        )

        CfnOutput(self, "EnvironmentName", value=self.airflow.environment_name)
        CfnOutput(self, "WebserverUrl", value=self.airflow.webserver_url)
        CfnOutput(self, "SourceBucket", value=self.airflow.source_bucket.bucket_name)
        CfnOutput(self, "ExecutionRoleArn", value=self.airflow.execution_role.role_arn)
        CfnOutput(self, "ModelImageRepository", value=images.repository_uri)
        CfnOutput(self, "PreprocessingCodePrefix", value=self.build.script_location_prefix)
        CfnOutput(self, "TriggerDeadLetterQueue", value=self.trigger.dead_letter_queue.queue_url)


def create_example_app() -> App:
    """Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`."""
    app = App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    MwaaMlopsExampleStack(app, "MwaaMlopsExample")
    return app


if __name__ == "__main__":
    create_example_app().synth()
