// The example app of examples/app.ts in Go: the same stacks, the same props.
// Run: go run . (templates land in CDK_OUTDIR or cdk.out).
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops"
)

// NewMwaaMlopsExampleStack builds the example: an MWAA environment on the library's defaults, and the events that start its DAGs.
func NewMwaaMlopsExampleStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &awscdk.StackProps{
		Description: jsii.String("cdk-mwaa-mlops example: an Amazon MWAA environment, a model build pipeline and the triggers between them"),
	})
	airflow := cdkmwaamlops.NewAirflowEnvironment(stack, jsii.String("Airflow"), &cdkmwaamlops.AirflowEnvironmentProps{
		AirflowVersion: cdkmwaamlops.AirflowVersion_V3_3_1(),
		Requirements:   jsii.Strings("apache-airflow-providers-amazon"),
	})

	build := cdkmwaamlops.NewModelBuildPipeline(stack, jsii.String("ModelBuild"), &cdkmwaamlops.ModelBuildPipelineProps{
		Source: cdkmwaamlops.PipelineSource_NewCodeCommitRepository(&cdkmwaamlops.NewCodeCommitSourceOptions{
			RepositoryName: jsii.String("mlops-model"),
		}),
	})
	images := build.ImageRepository()
	trigger := cdkmwaamlops.NewDagTrigger(stack, jsii.String("Trigger"), &cdkmwaamlops.DagTriggerProps{Environment: airflow})
	trigger.OnImagePushed(jsii.String("NewModelImage"), &cdkmwaamlops.ImagePushedTriggerOptions{
		Repository: images,
		DagId:      jsii.String("mlops_training"),
	})
	trigger.OnModelPackageStatusChange(jsii.String("ModelApproved"), &cdkmwaamlops.ModelPackageTriggerOptions{
		ModelPackageGroupName: jsii.String("mlops-models"),
		DagId:                 jsii.String("mlops_deployment"),
	})

	outputs := []struct{ id, value *string }{
		{jsii.String("EnvironmentName"), airflow.EnvironmentName()},
		{jsii.String("WebserverUrl"), airflow.WebserverUrl()},
		{jsii.String("SourceBucket"), airflow.SourceBucket().BucketName()},
		{jsii.String("ExecutionRoleArn"), airflow.ExecutionRole().RoleArn()},
		{jsii.String("ModelImageRepository"), images.RepositoryUri()},
		{jsii.String("PreprocessingCodePrefix"), build.ScriptLocationPrefix()},
		{jsii.String("TriggerDeadLetterQueue"), trigger.DeadLetterQueue().QueueUrl()},
	}
	for _, output := range outputs {
		awscdk.NewCfnOutput(stack, output.id, &awscdk.CfnOutputProps{Value: output.value})
	}
	return stack
}

// NewExampleApp builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or cdk.out.
func NewExampleApp() awscdk.App {
	outdir, ok := os.LookupEnv("CDK_OUTDIR")
	if !ok {
		outdir = "cdk.out"
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir})
	NewMwaaMlopsExampleStack(app, "MwaaMlopsExample")
	return app
}

func main() {
	defer jsii.Close()
	NewExampleApp().Synth(nil)
}
