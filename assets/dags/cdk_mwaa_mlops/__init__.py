"""DAG builders of cdk-mwaa-mlops: a training and a deployment DAG per pipeline config.

Kept out of DAG parsing by `.airflowignore`; imported by `cdk_mwaa_mlops_dags.py`.
"""
