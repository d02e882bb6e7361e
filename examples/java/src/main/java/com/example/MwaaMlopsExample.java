package com.example;

import io.github.cdkmwaamlops.AirflowEnvironment;
import io.github.cdkmwaamlops.AirflowVersion;
import io.github.cdkmwaamlops.ConnectionSourceOptions;
import io.github.cdkmwaamlops.EndpointDeployment;
import io.github.cdkmwaamlops.IAirflowEnvironment;
import io.github.cdkmwaamlops.ModelApproval;
import io.github.cdkmwaamlops.ModelWorkflowOptions;
import io.github.cdkmwaamlops.MwaaMlopsPipeline;
import io.github.cdkmwaamlops.Orchestration;
import io.github.cdkmwaamlops.PipelineSource;
import io.github.cdkmwaamlops.RealTimeDeploymentOptions;
import io.github.cdkmwaamlops.ServerlessDeploymentOptions;
import io.github.cdkmwaamlops.ServerlessWorkflow;
import io.github.cdkmwaamlops.TrafficShifting;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.codecommit.IRepository;
import software.constructs.Construct;

/** The example app of examples/app.ts in Java: the same stacks, the same props, the same outputs. */
public final class MwaaMlopsExample {

    /**
     * A placeholder CodeConnections connection, so the example synthesizes with no account. Deploy with your own:
     * {@code cdk deploy -c connectionArn=arn:aws:codeconnections:<region>:<account>:connection/<id>} (created and
     * authorized in the console: Developer Tools, Settings, Connections).
     */
    static final String EXAMPLE_CONNECTION_ARN =
            "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000";

    /** The quick start: the whole loop on its defaults. */
    public static final class MwaaMlopsExampleStack extends Stack {
        public final MwaaMlopsPipeline pipeline;

        public MwaaMlopsExampleStack(final Construct scope, final String id) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA, on its defaults")
                    .build());
            pipeline = new MwaaMlopsPipeline(this, "Churn");
            pipelineOutputs(pipeline);
        }
    }

    /**
     * The same loop on Amazon MWAA Serverless: no environment, VPC or NAT gateway, so it costs close to nothing while
     * idle. A real-time endpoint, rolled out blue/green with a canary, once a person approves the model.
     */
    public static final class MwaaMlopsServerlessExampleStack extends Stack {
        public final MwaaMlopsPipeline pipeline;

        public MwaaMlopsServerlessExampleStack(final Construct scope, final String id) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA Serverless")
                    .build());
            pipeline = MwaaMlopsPipeline.Builder.create(this, "Churn").orchestration(Orchestration.serverless()).build();
            pipelineOutputs(pipeline);
        }
    }

    /**
     * Several pipelines on one environment: a GitHub repository (through CodeConnections) deploying to a serverless
     * endpoint with automatic approval, and the starter in CodeCommit deploying to a real-time endpoint after a person
     * approves, with a canary rollout.
     */
    public static final class MwaaMlopsSharedExampleStack extends Stack {
        public final AirflowEnvironment airflow;
        public final MwaaMlopsPipeline fraud;
        public final MwaaMlopsPipeline demand;

        public MwaaMlopsSharedExampleStack(final Construct scope, final String id) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: two pipelines on one shared Amazon MWAA environment")
                    .build());
            airflow = AirflowEnvironment.Builder.create(this, "Airflow")
                    .airflowVersion(AirflowVersion.V3_3_1)
                    .build();

            Object connectionArn = getNode().tryGetContext("connectionArn");
            fraud = MwaaMlopsPipeline.Builder.create(this, "Fraud")
                    .environment(airflow)
                    .source(PipelineSource.connection(ConnectionSourceOptions.builder()
                            .connectionArn(connectionArn != null ? (String) connectionArn : EXAMPLE_CONNECTION_ARN)
                            .owner("acme")
                            .repository("fraud-model")
                            .build()))
                    .workflow(ModelWorkflowOptions.builder()
                            .deployment(EndpointDeployment.serverless(ServerlessDeploymentOptions.builder()
                                    .memorySizeMb(2048)
                                    .maxConcurrency(10)
                                    .build()))
                            .approval(ModelApproval.AUTOMATIC)
                            .build())
                    .build();
            demand = MwaaMlopsPipeline.Builder.create(this, "Demand")
                    .environment(airflow)
                    .workflow(ModelWorkflowOptions.builder()
                            .approval(ModelApproval.MANUAL)
                            .deployment(EndpointDeployment.realTime(RealTimeDeploymentOptions.builder()
                                    .trafficShifting(TrafficShifting.canary(20, Duration.minutes(10)))
                                    .build()))
                            .build())
                    .build();
            // The shared environment is watched once: its alarms go to the first pipeline's topic.
            fraud.getMonitoring().monitorEnvironment(airflow);
            CfnOutput.Builder.create(this, "WebserverUrl").value(airflow.getWebserverUrl()).build();
            pipelineOutputs(fraud);
            pipelineOutputs(demand);
        }
    }

    /** What an operator looks up after the deploy: where to push code and data, and what to watch. */
    static void pipelineOutputs(final MwaaMlopsPipeline pipeline) {
        final Construct scope = new Construct((Construct) pipeline.getNode().getScope(), pipeline.getNode().getId() + "Outputs");
        final class Outputs {
            void output(final String id, final String value) {
                if (value != null && !value.isEmpty()) {
                    CfnOutput.Builder.create(scope, id).value(value).build();
                }
            }
        }
        final Outputs outputs = new Outputs();
        final IAirflowEnvironment environment = pipeline.getEnvironment();
        outputs.output("EnvironmentName", environment != null ? environment.getEnvironmentName() : null);
        if (environment instanceof AirflowEnvironment && environment.getNode().getScope() == pipeline) {
            outputs.output("WebserverUrl", ((AirflowEnvironment) environment).getWebserverUrl());
        }
        final ServerlessWorkflow training = pipeline.getWorkflow().getTrainingWorkflow();
        final ServerlessWorkflow deployment = pipeline.getWorkflow().getDeploymentWorkflow();
        outputs.output("TrainingWorkflow", training != null ? training.getWorkflowArn() : null);
        outputs.output("DeploymentWorkflow", deployment != null ? deployment.getWorkflowArn() : null);
        final IRepository sourceRepository = pipeline.getModelBuild().getSourceRepository();
        outputs.output("SourceRepository", sourceRepository != null ? sourceRepository.getRepositoryCloneUrlGrc() : null);
        outputs.output("ModelImageRepository", pipeline.getModelBuild().getImageRepository().getRepositoryUri());
        outputs.output("RawData", "s3://" + pipeline.getWorkflow().getDataBucket().getBucketName() + "/"
                + pipeline.getWorkflow().getRawDataPrefix());
        outputs.output("ModelPackageGroup", pipeline.getWorkflow().getModelPackageGroupName());
        outputs.output("EndpointName", pipeline.getWorkflow().getEndpointName());
        outputs.output("FailureTopic", pipeline.getTopic().getTopicArn());
        outputs.output("Dashboard", pipeline.getMonitoring().getDashboard().getDashboardName());
        outputs.output("TriggerDeadLetterQueue", pipeline.getTrigger().getDeadLetterQueue().getQueueUrl());
    }

    /** Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`. */
    public static App createExampleApp() {
        App app = App.Builder.create().outdir(System.getenv().getOrDefault("CDK_OUTDIR", "cdk.out")).build();
        new MwaaMlopsExampleStack(app, "MwaaMlopsExample");
        new MwaaMlopsSharedExampleStack(app, "MwaaMlopsSharedExample");
        new MwaaMlopsServerlessExampleStack(app, "MwaaMlopsServerlessExample");
        return app;
    }

    public static void main(final String[] args) {
        createExampleApp().synth();
    }

    private MwaaMlopsExample() {
    }
}
