"""cdk-mwaa-mlops: the Airflow DAGs, a training and a deployment DAG for every pipeline config in
cdk_mwaa_mlops_pipelines/, and a drift DAG for each that has drift detection. (Airflow parses only files that
mention both "airflow" and "dag".)
The construct writes one `<pipeline>.json` per pipeline beside this file, so several pipelines share one
environment. Parsing reads those files and nothing else: no AWS calls at parse time.
"""

from pathlib import Path

# Airflow's DAG processor imports the `airflow` modules a DAG file names once, before it starts a parser process
# per file (parsing_pre_import_modules). Naming the provider modules the builders use keeps them out of each parse
# (get_provider_info: Airflow 3.0 reads the provider's metadata while building the operators).
import airflow.providers.amazon.aws.notifications.sns
import airflow.providers.amazon.aws.operators.glue
import airflow.providers.amazon.aws.operators.sagemaker
import airflow.providers.amazon.get_provider_info
import airflow.providers.standard.decorators.python
import airflow.providers.standard.decorators.sensor
import airflow.providers.standard.decorators.short_circuit
import airflow.providers.standard.operators.trigger_dagrun  # noqa: F401
from cdk_mwaa_mlops.config import load_configs
from cdk_mwaa_mlops.drift_dag import build_drift_dag
from cdk_mwaa_mlops.guard import build_dags

CONFIG_DIRECTORY = Path(__file__).resolve().parent / "cdk_mwaa_mlops_pipelines"

for _config in load_configs(CONFIG_DIRECTORY):
    globals().update(build_dags(_config))
    if _config.drift:
        globals()[_config.drift_dag_id] = build_drift_dag(_config)
