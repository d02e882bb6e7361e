from __future__ import annotations

import csv
import json
from pathlib import Path

import preprocess
import pytest

ROWS = 569  # the scikit-learn dataset


def run(spark, input_uri: Path | str, output: Path, *extra: str) -> dict[str, int]:
    return preprocess.main(["--input_uri", str(input_uri), "--output_uri", str(output), "--JOB_ID", "j_1", *extra])


def split_lines(output: Path, split: str) -> list[str]:
    return sorted(line for path in (output / split).glob("part-*.csv") for line in path.read_text().splitlines())


def rejected_rows(output: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in (output / "rejected").glob("part-*.csv"):
        with path.open() as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def test_splits_every_good_row_once_in_the_configured_fractions(spark, sample_csv, tmp_path):
    counts = run(spark, sample_csv, tmp_path / "out")
    assert counts["rows_read"] == ROWS
    assert counts["rejected"] == 0
    assert counts["train"] + counts["validation"] + counts["test"] == ROWS
    assert abs(counts["train"] / ROWS - 0.70) < 0.05
    assert abs(counts["validation"] / ROWS - 0.15) < 0.04
    assert abs(counts["test"] / ROWS - 0.15) < 0.04
    lines = [line for split in preprocess.SPLITS for line in split_lines(tmp_path / "out", split)]
    assert len(lines) == ROWS


def test_writes_headerless_csv_with_the_label_first_then_the_features(spark, sample_csv, tmp_path):
    run(spark, sample_csv, tmp_path / "out")
    with sample_csv.open() as handle:
        raw = {row["record_id"]: row for row in csv.DictReader(handle)}
    by_features = {tuple(round(float(row[f]), 9) for f in preprocess.FEATURES): row["diagnosis"] for row in raw.values()}
    for split in preprocess.SPLITS:
        for line in split_lines(tmp_path / "out", split):
            values = line.split(",")
            assert len(values) == 1 + len(preprocess.FEATURES)
            label, features = int(values[0]), tuple(round(float(v), 9) for v in values[1:])
            assert label == preprocess.LABELS[by_features[features]]


def test_the_feature_list_matches_the_sample_data_header(sample_csv):
    with sample_csv.open() as handle:
        header = next(csv.reader(handle))
    assert header == preprocess.EXPECTED_COLUMNS


def test_the_split_is_reproducible_and_independent_of_partitioning(spark, sample_csv, tmp_path):
    run(spark, sample_csv, tmp_path / "one")
    # The same rows in three files, in reverse order: Spark reads them as other partitions.
    lines = sample_csv.read_text().splitlines()
    header, body = lines[0], lines[1:][::-1]
    parts = tmp_path / "parts"
    parts.mkdir()
    for index in range(3):
        (parts / f"part{index}.csv").write_text("\n".join([header, *body[index::3]]) + "\n")
    run(spark, parts, tmp_path / "three")
    for split in preprocess.SPLITS:
        assert split_lines(tmp_path / "one", split) == split_lines(tmp_path / "three", split)


def test_another_seed_gives_another_split(spark, sample_csv, tmp_path):
    run(spark, sample_csv, tmp_path / "a")
    run(spark, sample_csv, tmp_path / "b", "--seed", "7")
    assert split_lines(tmp_path / "a", "test") != split_lines(tmp_path / "b", "test")


def test_bad_rows_are_set_aside_with_a_reason_and_counted(spark, sample_csv, tmp_path):
    lines = sample_csv.read_text().splitlines()
    good = lines[1].split(",")

    def row(**changes: str) -> str:
        values = dict(zip(preprocess.EXPECTED_COLUMNS, good, strict=True))
        values.update(changes)
        return ",".join(values[c] for c in preprocess.EXPECTED_COLUMNS)

    bad = [
        row(record_id="bad1", mean_radius="not-a-number"),
        row(record_id="bad2", mean_texture=""),
        row(record_id="bad3", diagnosis="unknown"),
        row(record_id="bad4", worst_area="NaN"),
        row(record_id="", mean_area="10.0"),
        ",".join(["bad6", *good[1:5]]),  # too few columns
        lines[1],  # a repeat of the first record id
    ]
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("\n".join([*lines, *bad]) + "\n")
    counts = run(spark, dirty, tmp_path / "out")

    assert counts["rows_read"] == ROWS + len(bad)
    assert counts["rejected"] == len(bad)
    assert counts["train"] + counts["validation"] + counts["test"] == ROWS
    reasons = {row["record_id"] or "(empty)": row["reject_reason"] for row in rejected_rows(tmp_path / "out")}
    assert reasons["bad1"].startswith("malformed row")
    assert reasons["bad2"] == "mean_texture is missing"
    assert reasons["bad3"] == "diagnosis is not one of ['benign', 'malignant']: unknown"
    assert reasons["bad4"] == "worst_area is not finite"
    assert reasons["(empty)"] == "record_id is missing"
    assert reasons["bad6"].startswith("malformed row") or reasons["bad6"].endswith("is missing")
    assert reasons[good[0]] == "duplicate record_id"
    summary = [
        json.loads(line) for path in (tmp_path / "out" / "summary").glob("part-*.json") for line in path.read_text().splitlines()
    ]
    assert summary == [counts]


def test_a_header_that_does_not_match_fails_with_the_difference(spark, sample_csv, tmp_path):
    lines = sample_csv.read_text().splitlines()
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("\n".join([lines[0].replace("mean_radius", "radius"), *lines[1:]]) + "\n")
    with pytest.raises(ValueError, match=r"missing: \['mean_radius'\], unexpected: \['radius'\]"):
        run(spark, renamed, tmp_path / "out")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--train_fraction", "0.9", "--validation_fraction", "0.1"], "must leave a share for the test split"),
        (["--train_fraction", "1.5"], "must be between 0 and 1"),
    ],
)
def test_bad_fractions_are_refused(arguments, message, capsys):
    with pytest.raises(SystemExit):
        preprocess.parse_args(["--input_uri", "x", "--output_uri", "y", *arguments])
    assert message in capsys.readouterr().err
