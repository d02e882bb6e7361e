from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "data"))

from make_sample_data import write_sample  # noqa: E402


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("raw") / "breast_cancer.csv"
    write_sample(path)
    return path


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("starter-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def splits(spark, sample_csv, tmp_path_factory) -> Path:
    """The preprocessing output for the sample data: what SageMaker hands the training and evaluation steps."""
    import preprocess

    output = tmp_path_factory.mktemp("processed")
    preprocess.main(["--input_uri", str(sample_csv), "--output_uri", str(output)])
    return output
