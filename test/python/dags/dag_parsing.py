"""Parsing DAG files as Airflow's DAG processor does, on each Airflow version the DAGs support.

Airflow >= 3.1 has `BundleDagBag`, which puts the bundle folder on `sys.path` as the processor does. Airflow 3.0 has
no BundleDagBag: its processor puts the bundle folder on `sys.path` itself and parses with `DagBag(bundle_path=...)`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def bundle_dag_bag(dag_folder: str | Path, bundle_path: str | Path) -> Any:
    """A DagBag of `dag_folder` parsed as the DAG processor parses a file of the bundle at `bundle_path`."""
    try:
        from airflow.dag_processing.dagbag import BundleDagBag
    except ImportError:  # Airflow 3.0
        from airflow.models.dagbag import DagBag

        if str(bundle_path) not in sys.path:
            sys.path.append(str(bundle_path))
        return DagBag(str(dag_folder), include_examples=False, bundle_path=Path(bundle_path))
    return BundleDagBag(dag_folder=str(dag_folder), bundle_path=Path(bundle_path))


def dag_bag_class() -> type:
    """Airflow's DagBag (moved from airflow.models.dagbag in 3.0 to airflow.dag_processing.dagbag)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0
        from airflow.models.dagbag import DagBag
    return DagBag


def sync_to_db(bag: Any, bundle_name: str = "dags-folder") -> None:
    """Store the parsed DAGs as the DAG processor does (on Airflow 3.0, a TriggerDagRunOperator's target must be)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    try:
        from airflow.dag_processing.dagbag import sync_bag_to_db
    except ImportError:  # Airflow 3.0
        bag.sync_to_db(bundle_name=bundle_name, bundle_version=None)
    else:
        sync_bag_to_db(bag, bundle_name, None)


def store_dag(dag: Any) -> None:
    """Store one DAG built outside the DAG folder, as the processor would have (Airflow >= 3.2's dag.test() needs it;
    on Airflow 3.0, dag.test() stores the DAG itself and its DagBag cannot store a DAG it did not parse)."""
    try:
        from airflow.dag_processing.dagbag import sync_bag_to_db  # noqa: F401  (Airflow >= 3.1)
    except ImportError:
        return
    bag = dag_bag_class()(collect_dags=False)
    bag.bag_dag(dag)
    sync_to_db(bag)
