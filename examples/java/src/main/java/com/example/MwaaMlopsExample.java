package com.example;

import io.github.cdkmwaamlops.AirflowEnvironment;
import io.github.cdkmwaamlops.AirflowVersion;
import io.github.cdkmwaamlops.DagTrigger;
import io.github.cdkmwaamlops.ImagePushedTriggerOptions;
import io.github.cdkmwaamlops.ModelBuildPipeline;
import io.github.cdkmwaamlops.ModelPackageTriggerOptions;
import io.github.cdkmwaamlops.NewCodeCommitSourceOptions;
import io.github.cdkmwaamlops.PipelineSource;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ecr.IRepository;
import software.constructs.Construct;

/** The example app of examples/app.ts in Java: the same stacks, the same props. */
public final class MwaaMlopsExample {

    /** The example: an MWAA environment on the library's defaults, and the events that start its DAGs. */
    public static final class MwaaMlopsExampleStack extends Stack {
        public final AirflowEnvironment airflow;
        public final DagTrigger trigger;
        public final ModelBuildPipeline build;

        public MwaaMlopsExampleStack(final Construct scope, final String id) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: an Amazon MWAA environment, a model build pipeline and the triggers between them")
                    .build());
            airflow = AirflowEnvironment.Builder.create(this, "Airflow")
                    .airflowVersion(AirflowVersion.V3_3_1)
                    .requirements(List.of("apache-airflow-providers-amazon"))
                    .build();

            build = ModelBuildPipeline.Builder.create(this, "ModelBuild")
                    .source(PipelineSource.newCodeCommitRepository(NewCodeCommitSourceOptions.builder()
                            .repositoryName("mlops-model")
                            .build()))
                    .build();
            IRepository images = build.getImageRepository();
            trigger = DagTrigger.Builder.create(this, "Trigger").environment(airflow).build();
            trigger.onImagePushed("NewModelImage", ImagePushedTriggerOptions.builder()
                    .repository(images)
                    .dagId("mlops_training")
                    .build());
            trigger.onModelPackageStatusChange("ModelApproved", ModelPackageTriggerOptions.builder()
                    .modelPackageGroupName("mlops-models")
                    .dagId("mlops_deployment")
                    .build());

            output("EnvironmentName", airflow.getEnvironmentName());
            output("WebserverUrl", airflow.getWebserverUrl());
            output("SourceBucket", airflow.getSourceBucket().getBucketName());
            output("ExecutionRoleArn", airflow.getExecutionRole().getRoleArn());
            output("ModelImageRepository", images.getRepositoryUri());
            output("PreprocessingCodePrefix", build.getScriptLocationPrefix());
            output("TriggerDeadLetterQueue", trigger.getDeadLetterQueue().getQueueUrl());
        }

        private void output(final String id, final String value) {
            CfnOutput.Builder.create(this, id).value(value).build();
        }
    }

    /** Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`. */
    public static App createExampleApp() {
        App app = App.Builder.create().outdir(System.getenv().getOrDefault("CDK_OUTDIR", "cdk.out")).build();
        new MwaaMlopsExampleStack(app, "MwaaMlopsExample");
        return app;
    }

    public static void main(final String[] args) {
        createExampleApp().synth();
    }

    private MwaaMlopsExample() {
    }
}
