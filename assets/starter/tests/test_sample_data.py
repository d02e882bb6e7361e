from __future__ import annotations

import hashlib

from make_sample_data import write_sample


def test_the_sample_data_is_the_same_bytes_every_run(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_sample(first) == write_sample(second) == 569
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    header, row = first.read_text().splitlines()[:2]
    assert header.startswith("record_id,mean_radius,") and header.endswith(",diagnosis")
    assert row.startswith("r00000,") and row.endswith(",malignant")
