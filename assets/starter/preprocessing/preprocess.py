"""Glue 5 (Spark 3.5) preprocessing: raw CSV in S3 -> validated, transformed, split train/validation/test.

Runs as a Glue Spark job, or anywhere PySpark runs (the tests use local Spark). Arguments arrive the way Glue
passes them (`--name value`); Glue's own extra arguments (--JOB_ID, --TempDir, ...) are ignored.

    --input_uri   a CSV file or a prefix of CSV files, with a header row
    --output_uri  the run's output prefix; gets train/, validation/, test/ (headerless CSV, label first, then the
                  features in FEATURES order), rejected/ (bad rows with a reject_reason) and summary/ (row counts)
    --seed, --train_fraction, --validation_fraction   the split; the rest is test

Rows are assigned to a split by a seeded hash of their record id, so the split does not depend on how Spark
partitions the data: the same input and seed give the same split on any cluster size.
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

ID_COLUMN = "record_id"
LABEL_COLUMN = "diagnosis"
#: diagnosis -> label (1 is the class the model predicts the probability of)
LABELS = {"malignant": 1, "benign": 0}
FEATURES = [
    "mean_radius",
    "mean_texture",
    "mean_perimeter",
    "mean_area",
    "mean_smoothness",
    "mean_compactness",
    "mean_concavity",
    "mean_concave_points",
    "mean_symmetry",
    "mean_fractal_dimension",
    "radius_error",
    "texture_error",
    "perimeter_error",
    "area_error",
    "smoothness_error",
    "compactness_error",
    "concavity_error",
    "concave_points_error",
    "symmetry_error",
    "fractal_dimension_error",
    "worst_radius",
    "worst_texture",
    "worst_perimeter",
    "worst_area",
    "worst_smoothness",
    "worst_compactness",
    "worst_concavity",
    "worst_concave_points",
    "worst_symmetry",
    "worst_fractal_dimension",
]
EXPECTED_COLUMNS = [ID_COLUMN, *FEATURES, LABEL_COLUMN]
CORRUPT_COLUMN = "_corrupt_record"
SPLITS = ("train", "validation", "test")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input_uri", required=True)
    parser.add_argument("--output_uri", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train_fraction", type=float, default=0.7)
    parser.add_argument("--validation_fraction", type=float, default=0.15)
    args, _glue_arguments = parser.parse_known_args(argv)
    if not 0 < args.train_fraction < 1 or not 0 < args.validation_fraction < 1:
        parser.error("--train_fraction and --validation_fraction must be between 0 and 1")
    if args.train_fraction + args.validation_fraction >= 1:
        parser.error("--train_fraction + --validation_fraction must leave a share for the test split (< 1)")
    return args


def read_raw(spark: SparkSession, input_uri: str) -> DataFrame:
    """Reads the CSV with a typed schema; rows that do not parse keep their text in CORRUPT_COLUMN."""
    header = spark.read.option("header", True).csv(input_uri).columns
    missing = [column for column in EXPECTED_COLUMNS if column not in header]
    unexpected = [column for column in header if column not in EXPECTED_COLUMNS]
    if missing or unexpected:
        raise ValueError(
            f"{input_uri}: the header does not match the expected columns"
            f" (missing: {missing or 'none'}, unexpected: {unexpected or 'none'})"
        )
    types = {ID_COLUMN: T.StringType(), LABEL_COLUMN: T.StringType()}
    schema = T.StructType(
        [T.StructField(column, types.get(column, T.DoubleType())) for column in header]
        + [T.StructField(CORRUPT_COLUMN, T.StringType())]
    )
    return (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
        .schema(schema)
        .csv(input_uri)
    )


def reject_reason() -> F.Column:
    """The first problem of a row, or null for a good row."""
    checks = [(F.col(CORRUPT_COLUMN).isNotNull(), F.lit("malformed row (wrong column count or a value of the wrong type)"))]
    checks.append((F.col(ID_COLUMN).isNull() | (F.trim(F.col(ID_COLUMN)) == ""), F.lit(f"{ID_COLUMN} is missing")))
    for feature in FEATURES:
        checks.append((F.col(feature).isNull(), F.lit(f"{feature} is missing")))
        checks.append(
            (F.isnan(F.col(feature)) | F.col(feature).isin(float("inf"), float("-inf")), F.lit(f"{feature} is not finite"))
        )
    known = F.lower(F.trim(F.col(LABEL_COLUMN))).isin(*LABELS)
    checks.append(
        (
            F.col(LABEL_COLUMN).isNull() | ~known,
            F.concat(F.lit(f"{LABEL_COLUMN} is not one of {sorted(LABELS)}: "), F.coalesce(F.col(LABEL_COLUMN), F.lit("null"))),
        )
    )
    reason = F.lit(None).cast(T.StringType())
    for condition, message in reversed(checks):
        reason = F.when(condition, message).otherwise(reason)
    return reason


def preprocess(spark: SparkSession, args: argparse.Namespace) -> dict[str, int]:
    raw = read_raw(spark, args.input_uri).withColumn("reject_reason", reject_reason()).cache()
    # A repeated record id would leak between splits and weight one sample twice: keep the first, set the rest aside.
    order = Window.partitionBy(ID_COLUMN).orderBy(*[F.col(c).asc_nulls_last() for c in EXPECTED_COLUMNS])
    checked = raw.withColumn(
        "reject_reason",
        F.when(
            F.col("reject_reason").isNull() & (F.row_number().over(order) > 1),
            F.lit(f"duplicate {ID_COLUMN}"),
        ).otherwise(F.col("reject_reason")),
    ).cache()

    rejected = checked.filter(F.col("reject_reason").isNotNull())
    good = checked.filter(F.col("reject_reason").isNull())
    bucket = F.pmod(F.xxhash64(F.lit(str(args.seed)), F.col(ID_COLUMN)), F.lit(1_000_000)) / F.lit(1_000_000.0)
    train_end = args.train_fraction
    validation_end = args.train_fraction + args.validation_fraction
    split = F.when(bucket < train_end, "train").when(bucket < validation_end, "validation").otherwise("test")
    labelled = (
        good.select(
            split.alias("split"),
            F.lower(F.trim(F.col(LABEL_COLUMN))).alias("diagnosis_normalized"),
            *FEATURES,
        )
        .withColumn(
            "label",
            F.create_map(*[item for name, value in LABELS.items() for item in (F.lit(name), F.lit(value))])[
                F.col("diagnosis_normalized")
            ],
        )
        .cache()
    )

    output = args.output_uri.rstrip("/")
    counts = {"rows_read": checked.count(), "rejected": rejected.count()}
    for name in SPLITS:
        part = labelled.filter(F.col("split") == name).select("label", *FEATURES)
        part.write.mode("overwrite").option("header", False).csv(f"{output}/{name}")
        counts[name] = part.count()
    (
        rejected.select(*[c for c in raw.columns if c != CORRUPT_COLUMN], CORRUPT_COLUMN)
        .write.mode("overwrite")
        .option("header", True)
        .csv(f"{output}/rejected")
    )
    spark.createDataFrame([counts]).coalesce(1).write.mode("overwrite").json(f"{output}/summary")
    return counts


def main(argv: list[str]) -> dict[str, int]:
    args = parse_args(argv)
    spark = SparkSession.builder.appName("preprocess").getOrCreate()
    counts = preprocess(spark, args)
    print(f"preprocess: {counts}")
    if counts["rejected"]:
        print(f"preprocess: {counts['rejected']} rows set aside in {args.output_uri.rstrip('/')}/rejected/")
    return counts


if __name__ == "__main__":
    main(sys.argv[1:])
