module example.com/mwaa-mlops-example

go 1.25

// constructs at the project's minimum version (.projenrc.ts). aws-cdk-go at v2.277.0, above the library's minimum
// (v2.257.0, which its module names): the Go module proxy does not serve every module v2.257.0 pins (e.g.
// cloud-assembly-schema-go v53.28.0), and minimal version selection picks v2.277.0 over the library's floor.
require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.277.0
	github.com/aws/constructs-go/constructs/v10 v10.5.1
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops v0.0.0
)

// The freshly built module: `npx projen package:go` writes it to dist/go.
replace github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go/cdkmwaamlops => ../../dist/go/cdkmwaamlops
