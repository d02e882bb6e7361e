package com.example;

import io.github.cdkmwaamlops.AirflowEnvironment;
import io.github.cdkmwaamlops.AirflowVersion;
import io.github.cdkmwaamlops.ConnectionSourceOptions;
import io.github.cdkmwaamlops.DeploymentStage;
import io.github.cdkmwaamlops.DriftDetectionOptions;
import io.github.cdkmwaamlops.EndpointDeployment;
import io.github.cdkmwaamlops.IAirflowEnvironment;
import io.github.cdkmwaamlops.ModelApproval;
import io.github.cdkmwaamlops.ModelWorkflowOptions;
import io.github.cdkmwaamlops.MwaaMlopsPipeline;
import io.github.cdkmwaamlops.Orchestration;
import io.github.cdkmwaamlops.PipelineSource;
import io.github.cdkmwaamlops.PromotionGate;
import io.github.cdkmwaamlops.PromotionTarget;
import io.github.cdkmwaamlops.RealTimeDeploymentOptions;
import io.github.cdkmwaamlops.ServerlessDeploymentOptions;
import io.github.cdkmwaamlops.ServerlessWorkflow;
import io.github.cdkmwaamlops.StageChecks;
import io.github.cdkmwaamlops.TrafficShifting;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.codecommit.IRepository;
import software.constructs.Construct;
import java.util.List;
import java.util.Map;

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
                            // A fifth of the requests captured, checked daily against each model's training data; drift starts training.
                            .drift(DriftDetectionOptions.builder().samplingPercentage(20).build())
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

    /** The accounts of the promotion example: replace them with yours ({@code cdk deploy} needs each one bootstrapped). */
    static final Map<String, String> PROMOTION_ACCOUNTS =
            Map.of("pipeline", "111111111111", "staging", "222222222222", "production", "333333333333");
    static final String PROMOTION_REGION = "eu-west-1";

    /** The production endpoint, shared by the pipeline's stage and the production account's target. */
    static EndpointDeployment productionDeployment() {
        return EndpointDeployment.realTime(RealTimeDeploymentOptions.builder()
                .initialInstanceCount(2)
                .trafficShifting(TrafficShifting.linear(25, Duration.minutes(5)))
                .build());
    }

    /**
     * Promotion through three stages: dev in the pipeline's account, staging and production in accounts of their own.
     * An approved model deploys to dev; when dev's checks pass, it moves on to staging by itself; staging's checks pass,
     * and it waits in the registry for a person to approve production. The pipeline runs on MWAA Serverless.
     */
    public static final class MwaaMlopsPromotionExampleStack extends Stack {
        public final MwaaMlopsPipeline pipeline;

        public MwaaMlopsPromotionExampleStack(final Construct scope, final String id) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: promotion from dev through staging to production, each in its own account")
                    .env(Environment.builder().account(PROMOTION_ACCOUNTS.get("pipeline")).region(PROMOTION_REGION).build())
                    .build());
            pipeline = MwaaMlopsPipeline.Builder.create(this, "Churn")
                    .orchestration(Orchestration.serverless())
                    .workflow(ModelWorkflowOptions.builder()
                            .stages(List.of(
                                    DeploymentStage.builder().name("dev").deployment(EndpointDeployment.serverless())
                                            .gate(PromotionGate.AUTOMATIC).build(),
                                    DeploymentStage.builder().name("staging").account(PROMOTION_ACCOUNTS.get("staging"))
                                            .gate(PromotionGate.MANUAL).build(),
                                    DeploymentStage.builder().name("production").account(PROMOTION_ACCOUNTS.get("production"))
                                            .deployment(productionDeployment())
                                            .checks(StageChecks.builder().sampleRows(100).maxErrorRate(0.01)
                                                    .maxAverageLatency(Duration.millis(300)).build())
                                            .build()))
                            .build())
                    .build();
            pipelineOutputs(pipeline);
        }
    }

    /** A stage's side in its own account: the role the pipeline's runs assume there, the model role, alarms and clean-up. */
    public static final class MwaaMlopsPromotionTargetStack extends Stack {
        public final PromotionTarget target;

        public MwaaMlopsPromotionTargetStack(final Construct scope, final String id, final MwaaMlopsPipeline pipeline,
                final String stageName) {
            super(scope, id, StackProps.builder()
                    .description("cdk-mwaa-mlops example: the " + stageName + " stage of pipeline " + pipeline.getPipelineName())
                    .env(Environment.builder().account(PROMOTION_ACCOUNTS.get(stageName)).region(PROMOTION_REGION).build())
                    .build());
            target = PromotionTarget.Builder.create(this, "Stage")
                    .pipelineName(pipeline.getPipelineName())
                    .stageName(stageName)
                    .pipelineAccount(PROMOTION_ACCOUNTS.get("pipeline"))
                    .pipelineRoles(pipeline.getDeploymentRunRoles())
                    .deployment("production".equals(stageName) ? productionDeployment() : null)
                    .build();
            CfnOutput.Builder.create(this, "EndpointName").value(target.getEndpointName()).build();
        }
    }

    /** Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`. */
    public static App createExampleApp() {
        App app = App.Builder.create().outdir(System.getenv().getOrDefault("CDK_OUTDIR", "cdk.out")).build();
        new MwaaMlopsExampleStack(app, "MwaaMlopsExample");
        new MwaaMlopsSharedExampleStack(app, "MwaaMlopsSharedExample");
        new MwaaMlopsServerlessExampleStack(app, "MwaaMlopsServerlessExample");
        final MwaaMlopsPromotionExampleStack promotion = new MwaaMlopsPromotionExampleStack(app, "MwaaMlopsPromotionExample");
        new MwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionStaging", promotion.pipeline, "staging");
        new MwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionProduction", promotion.pipeline, "production");
        return app;
    }

    public static void main(final String[] args) {
        createExampleApp().synth();
    }

    private MwaaMlopsExample() {
    }
}
