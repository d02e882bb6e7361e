"""What jsii shows Python users beyond the example: the static constants and the value of version-like classes."""

from pathlib import Path

from cdk_mwaa_mlops import AirflowVersion, DagTrigger, EnvironmentClass, PipelineSource

assert DagTrigger.METRIC_NAMESPACE == "CdkMwaaMlops/DagTrigger", DagTrigger.METRIC_NAMESPACE
assert (Path(PipelineSource.STARTER_REPOSITORY_DIRECTORY) / "Dockerfile").is_file(), PipelineSource.STARTER_REPOSITORY_DIRECTORY
# jsii gives Python to_string(), not __str__.
assert AirflowVersion.V3_3_1.to_string() == "3.3.1"
assert AirflowVersion.of("3.2.1").to_string() == "3.2.1"
assert EnvironmentClass.MW1_SMALL.to_string() == "mw1.small"
print("python: jsii surface ok")
