"""Test of `slq lattice-report --quick`: the table, CSV, JSON and plot it writes."""
import csv
import json
import math

import pytest

from experiments import cli


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("lattice-report")
    assert cli.main(["lattice-report", "--quick", "--out", str(out)]) == 0
    return out


def test_csv_and_json_hold_the_quick_codebooks(report):
    with open(report / "report.csv", newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"e8-roots", "e8-shells12", "bsq-16", "fibonacci-n16384-d24",
                         "random-n16384-d24"}
    data = json.loads((report / "report.json").read_text())
    assert data["quick"] is True
    by_name = {row["name"]: row for row in data["codebooks"]}
    assert by_name.keys() == rows.keys()
    roots = by_name["e8-roots"]
    assert (roots["size"], roots["dim"], roots["delta_min"]) == (240, 8, 1.0)
    assert (roots["neighbours_min"], roots["neighbours_mean"], roots["exact"]) == (56, 56.0, True)
    assert roots["exact_max_cosine"] == "1/2" and roots["lattice"] == "E8"
    assert roots["packing_density_exact"] == "pi**4/384"
    assert roots["packing_density"] == pytest.approx(math.pi**4 / 384)
    assert by_name["bsq-16"]["delta_min"] == pytest.approx(0.5)
    assert by_name["bsq-16"]["packing_density"] is None
    assert by_name["e8-shells12"]["delta_min"] == pytest.approx(math.sqrt(0.5))
    for row in by_name.values():
        assert row["bits"] == pytest.approx(math.log2(row["size"]))
        assert float(rows[row["name"]]["delta_min"]) == pytest.approx(row["delta_min"])
    assert data["theta_series"] == {"E8": [1, 240, 2160, 6720], "Λ24": [1, 0, 196560, 16773120]}


def test_plot_is_a_png(report):
    assert (report / "delta_min_vs_bits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
