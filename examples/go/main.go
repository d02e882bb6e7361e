// The example app of examples/app.ts in Go: the same stacks, the same props, the same outputs.
// Run: go run . (templates land in CDK_OUTDIR or cdk.out).
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops"
)

// ExampleConnectionArn is a placeholder CodeConnections connection, so the example synthesizes with no account. Deploy
// with your own: `cdk deploy -c connectionArn=arn:aws:codeconnections:<region>:<account>:connection/<id>` (created and
// authorized in the console: Developer Tools, Settings, Connections).
const ExampleConnectionArn = "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"

// NewMwaaMlopsExampleStack builds the quick start: the whole loop on its defaults.
func NewMwaaMlopsExampleStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA, on its defaults"),
	})
	pipeline := cdkmwaamlops.NewMwaaMlopsPipeline(stack, jsii.String("Churn"), nil)
	pipelineOutputs(pipeline)
	return stack
}

// NewMwaaMlopsServerlessExampleStack builds the same loop on Amazon MWAA Serverless: no environment, VPC or NAT
// gateway, so it costs close to nothing while idle. A real-time endpoint, rolled out blue/green with a canary, once a
// person approves the model.
func NewMwaaMlopsServerlessExampleStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA Serverless"),
	})
	pipeline := cdkmwaamlops.NewMwaaMlopsPipeline(stack, jsii.String("Churn"), &cdkmwaamlops.MwaaMlopsPipelineProps{
		Orchestration: cdkmwaamlops.Orchestration_Serverless(nil),
	})
	pipelineOutputs(pipeline)
	return stack
}

// NewMwaaMlopsSharedExampleStack builds several pipelines on one environment: a GitHub repository (through
// CodeConnections) deploying to a serverless endpoint with automatic approval, and the starter in CodeCommit deploying
// to a real-time endpoint after a person approves, with a canary rollout.
func NewMwaaMlopsSharedExampleStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: two pipelines on one shared Amazon MWAA environment"),
	})
	airflow := cdkmwaamlops.NewAirflowEnvironment(stack, jsii.String("Airflow"), &cdkmwaamlops.AirflowEnvironmentProps{
		AirflowVersion: cdkmwaamlops.AirflowVersion_V3_3_1(),
	})

	fraud := cdkmwaamlops.NewMwaaMlopsPipeline(stack, jsii.String("Fraud"), &cdkmwaamlops.MwaaMlopsPipelineProps{
		Environment: airflow,
		Source: cdkmwaamlops.PipelineSource_Connection(&cdkmwaamlops.ConnectionSourceOptions{
			ConnectionArn: contextOr(stack, "connectionArn", ExampleConnectionArn),
			Owner:         jsii.String("acme"),
			Repository:    jsii.String("fraud-model"),
		}),
		Workflow: &cdkmwaamlops.ModelWorkflowOptions{
			Deployment: cdkmwaamlops.EndpointDeployment_Serverless(&cdkmwaamlops.ServerlessDeploymentOptions{
				MemorySizeMb:   jsii.Number(2048),
				MaxConcurrency: jsii.Number(10),
			}),
			Approval: cdkmwaamlops.ModelApproval_AUTOMATIC,
		},
	})
	demand := cdkmwaamlops.NewMwaaMlopsPipeline(stack, jsii.String("Demand"), &cdkmwaamlops.MwaaMlopsPipelineProps{
		Environment: airflow,
		Workflow: &cdkmwaamlops.ModelWorkflowOptions{
			Approval: cdkmwaamlops.ModelApproval_MANUAL,
			Deployment: cdkmwaamlops.EndpointDeployment_RealTime(&cdkmwaamlops.RealTimeDeploymentOptions{
				TrafficShifting: cdkmwaamlops.TrafficShifting_Canary(jsii.Number(20), awscdk.Duration_Minutes(jsii.Number(10))),
			}),
			// A fifth of the requests captured, checked daily against each model's training data; drift starts training.
			Drift: &cdkmwaamlops.DriftDetectionOptions{SamplingPercentage: jsii.Number(20)},
		},
	})
	// The shared environment is watched once: its alarms go to the first pipeline's topic.
	fraud.Monitoring().MonitorEnvironment(airflow)
	awscdk.NewCfnOutput(stack, jsii.String("WebserverUrl"), &awscdk.CfnOutputProps{Value: airflow.WebserverUrl()})
	pipelineOutputs(fraud)
	pipelineOutputs(demand)
	return stack
}

// promotionAccounts are the accounts of the promotion example: replace them with yours (`cdk deploy` needs each one
// bootstrapped).
var promotionAccounts = map[string]string{"pipeline": "111111111111", "staging": "222222222222", "production": "333333333333"}

const promotionRegion = "eu-west-1"

// productionDeployment is the production endpoint, shared by the pipeline's stage and the production account's target.
func productionDeployment() cdkmwaamlops.EndpointDeployment {
	return cdkmwaamlops.EndpointDeployment_RealTime(&cdkmwaamlops.RealTimeDeploymentOptions{
		InitialInstanceCount: jsii.Number(2),
		TrafficShifting:      cdkmwaamlops.TrafficShifting_Linear(jsii.Number(25), awscdk.Duration_Minutes(jsii.Number(5))),
	})
}

// NewMwaaMlopsPromotionExampleStack builds promotion through three stages: dev in the pipeline's account, staging and
// production in accounts of their own. An approved model deploys to dev; when dev's checks pass, it moves on to staging
// by itself; staging's checks pass, and it waits in the registry for a person to approve production. The pipeline runs
// on MWAA Serverless.
func NewMwaaMlopsPromotionExampleStack(scope constructs.Construct, id string) (awscdk.Stack, cdkmwaamlops.MwaaMlopsPipeline) {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: promotion from dev through staging to production, each in its own account"),
		Env:         &awscdk.Environment{Account: jsii.String(promotionAccounts["pipeline"]), Region: jsii.String(promotionRegion)},
	})
	pipeline := cdkmwaamlops.NewMwaaMlopsPipeline(stack, jsii.String("Churn"), &cdkmwaamlops.MwaaMlopsPipelineProps{
		Orchestration: cdkmwaamlops.Orchestration_Serverless(nil),
		Workflow: &cdkmwaamlops.ModelWorkflowOptions{
			Stages: &[]*cdkmwaamlops.DeploymentStage{
				{Name: jsii.String("dev"), Deployment: cdkmwaamlops.EndpointDeployment_Serverless(nil), Gate: cdkmwaamlops.PromotionGate_AUTOMATIC},
				{Name: jsii.String("staging"), Account: jsii.String(promotionAccounts["staging"]), Gate: cdkmwaamlops.PromotionGate_MANUAL},
				{
					Name:       jsii.String("production"),
					Account:    jsii.String(promotionAccounts["production"]),
					Deployment: productionDeployment(),
					Checks: &cdkmwaamlops.StageChecks{
						SampleRows:        jsii.Number(100),
						MaxErrorRate:      jsii.Number(0.01),
						MaxAverageLatency: awscdk.Duration_Millis(jsii.Number(300)),
					},
				},
			},
		},
	})
	pipelineOutputs(pipeline)
	return stack, pipeline
}

// NewMwaaMlopsPromotionTargetStack builds a stage's side in its own account: the role the pipeline's runs assume there,
// the model role, alarms and clean-up.
func NewMwaaMlopsPromotionTargetStack(scope constructs.Construct, id string, pipeline cdkmwaamlops.MwaaMlopsPipeline, stageName string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: the " + stageName + " stage of pipeline " + *pipeline.PipelineName()),
		Env:         &awscdk.Environment{Account: jsii.String(promotionAccounts[stageName]), Region: jsii.String(promotionRegion)},
	})
	props := &cdkmwaamlops.PromotionTargetProps{
		PipelineName:    pipeline.PipelineName(),
		StageName:       jsii.String(stageName),
		PipelineAccount: jsii.String(promotionAccounts["pipeline"]),
		PipelineRoles:   pipeline.DeploymentRunRoles(),
	}
	if stageName == "production" {
		props.Deployment = productionDeployment()
	}
	target := cdkmwaamlops.NewPromotionTarget(stack, jsii.String("Stage"), props)
	awscdk.NewCfnOutput(stack, jsii.String("EndpointName"), &awscdk.CfnOutputProps{Value: target.EndpointName()})
	return stack
}

// contextOr is `scope.node.tryGetContext(key) ?? fallback`: the context value when it is set, the fallback otherwise.
func contextOr(scope constructs.Construct, key string, fallback string) *string {
	switch value := scope.Node().TryGetContext(jsii.String(key)).(type) {
	case nil:
		return jsii.String(fallback)
	case *string:
		if value == nil {
			return jsii.String(fallback)
		}
		return value
	case string:
		return jsii.String(value)
	default:
		panic("context " + key + " must be a string")
	}
}

// pipelineOutputs adds what an operator looks up after the deploy: where to push code and data, and what to watch.
func pipelineOutputs(pipeline cdkmwaamlops.MwaaMlopsPipeline) {
	// The scope of a construct made in Go is the Go value itself (here the stack), so it is a constructs.Construct.
	scope := constructs.NewConstruct(pipeline.Node().Scope().(constructs.Construct), jsii.String(*pipeline.Node().Id()+"Outputs"))
	output := func(id string, value *string) {
		if value != nil && *value != "" {
			awscdk.NewCfnOutput(scope, jsii.String(id), &awscdk.CfnOutputProps{Value: value})
		}
	}
	if environment := pipeline.Environment(); environment != nil {
		output("EnvironmentName", environment.EnvironmentName())
		// The type assertion is `instanceof`: jsii hands out an environment the pipeline created as an AirflowEnvironment.
		if airflow, ok := environment.(cdkmwaamlops.AirflowEnvironment); ok && environment.Node().Scope() == pipeline {
			output("WebserverUrl", airflow.WebserverUrl())
		}
	}
	if training := pipeline.Workflow().TrainingWorkflow(); training != nil {
		output("TrainingWorkflow", training.WorkflowArn())
	}
	if deployment := pipeline.Workflow().DeploymentWorkflow(); deployment != nil {
		output("DeploymentWorkflow", deployment.WorkflowArn())
	}
	if repository := pipeline.ModelBuild().SourceRepository(); repository != nil {
		output("SourceRepository", repository.RepositoryCloneUrlGrc())
	}
	output("ModelImageRepository", pipeline.ModelBuild().ImageRepository().RepositoryUri())
	output("RawData", jsii.String("s3://"+*pipeline.Workflow().DataBucket().BucketName()+"/"+*pipeline.Workflow().RawDataPrefix()))
	output("ModelPackageGroup", pipeline.Workflow().ModelPackageGroupName())
	output("EndpointName", pipeline.Workflow().EndpointName())
	output("FailureTopic", pipeline.Topic().TopicArn())
	output("Dashboard", pipeline.Monitoring().Dashboard().DashboardName())
	output("TriggerDeadLetterQueue", pipeline.Trigger().DeadLetterQueue().QueueUrl())
}

// NewExampleApp builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or cdk.out.
func NewExampleApp() awscdk.App {
	outdir, ok := os.LookupEnv("CDK_OUTDIR")
	if !ok {
		outdir = "cdk.out"
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir})
	NewMwaaMlopsExampleStack(app, "MwaaMlopsExample")
	NewMwaaMlopsSharedExampleStack(app, "MwaaMlopsSharedExample")
	NewMwaaMlopsServerlessExampleStack(app, "MwaaMlopsServerlessExample")
	_, promotion := NewMwaaMlopsPromotionExampleStack(app, "MwaaMlopsPromotionExample")
	NewMwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionStaging", promotion, "staging")
	NewMwaaMlopsPromotionTargetStack(app, "MwaaMlopsPromotionProduction", promotion, "production")
	return app
}

func main() {
	defer jsii.Close()
	NewExampleApp().Synth(nil)
}
