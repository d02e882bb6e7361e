module example.com/mwaa-mlops-example

go 1.25

// aws-cdk-lib and constructs at the project's minimum versions (.projenrc.ts).
require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.257.0
	github.com/aws/constructs-go/constructs/v10 v10.5.1
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops v0.0.0
)

// The freshly built module: `npx projen package:go` writes it to dist/go.
replace github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops => ../../dist/go/cdkmwaamlops
