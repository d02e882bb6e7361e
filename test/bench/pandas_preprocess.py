"""The Glue script's transformation (assets/starter/preprocessing/preprocess.py) in single-process pandas, as the
reference sample preprocesses: the baseline of glue_scaling_bench.py. Same checks in the same order, same
de-duplication (the first row of an id in column order is kept), same outputs (train/, validation/, test/ headerless
with the label first, rejected/ with a reject_reason, summary/). The split uses pandas' seeded row hash instead of
Spark's xxhash64: equally independent of partitioning, not bit-identical.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from preprocess import EXPECTED_COLUMNS, FEATURES, ID_COLUMN, LABEL_COLUMN, LABELS, SPLITS


def preprocess(args: argparse.Namespace) -> dict[str, int]:
    raw = pd.read_csv(args.input_uri, dtype=str, keep_default_na=False)
    missing = [c for c in EXPECTED_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{args.input_uri}: the header does not match the expected columns (missing: {missing})")
    reason = pd.Series(pd.NA, index=raw.index, dtype=object)

    def reject(condition: pd.Series, message) -> None:
        reason.mask(reason.isna() & condition, message, inplace=True)

    numbers = {}
    malformed = pd.Series(False, index=raw.index)
    for feature in FEATURES:
        text = raw[feature]
        parsed = pd.to_numeric(text, errors="coerce")
        malformed |= parsed.isna() & (text.str.strip() != "")
        numbers[feature] = parsed
    reject(malformed, "malformed row (wrong column count or a value of the wrong type)")
    reject(raw[ID_COLUMN].str.strip() == "", f"{ID_COLUMN} is missing")
    for feature in FEATURES:
        reject(numbers[feature].isna(), f"{feature} is missing")
        reject(~np.isfinite(numbers[feature].fillna(0)), f"{feature} is not finite")
    label_text = raw[LABEL_COLUMN].str.strip().str.lower()
    reject(~label_text.isin(list(LABELS)), f"{LABEL_COLUMN} is not one of {sorted(LABELS)}: " + raw[LABEL_COLUMN])

    # A repeated record id: keep the first in column order (as the script's window), set the rest aside.
    typed = pd.DataFrame(numbers).assign(**{ID_COLUMN: raw[ID_COLUMN], LABEL_COLUMN: raw[LABEL_COLUMN]})
    order = typed.sort_values(EXPECTED_COLUMNS, na_position="last", kind="stable").index
    later = typed.loc[order, ID_COLUMN].duplicated(keep="first").reindex(raw.index)
    reject(later, f"duplicate {ID_COLUMN}")

    good = reason.isna()
    output = Path(args.output_uri)
    bucket = pd.util.hash_pandas_object(raw.loc[good, ID_COLUMN], index=False, hash_key=f"{args.seed:016d}"[:16])
    bucket = (bucket % 1_000_000) / 1_000_000.0
    split = np.where(
        bucket < args.train_fraction,
        "train",
        np.where(bucket < args.train_fraction + args.validation_fraction, "validation", "test"),
    )
    labelled = typed.loc[good, FEATURES].assign(label=label_text[good].map(LABELS))[["label", *FEATURES]]
    counts = {"rows_read": len(raw), "rejected": int((~good).sum())}
    for name in SPLITS:
        part = labelled[split == name]
        (output / name).mkdir(parents=True, exist_ok=True)
        part.to_csv(output / name / "part-00000.csv", header=False, index=False)
        counts[name] = len(part)
    (output / "rejected").mkdir(parents=True, exist_ok=True)
    raw[~good].assign(reject_reason=reason[~good]).to_csv(output / "rejected" / "part-00000.csv", index=False)
    (output / "summary").mkdir(parents=True, exist_ok=True)
    (output / "summary" / "part-00000.json").write_text(json.dumps(counts))
    return counts
