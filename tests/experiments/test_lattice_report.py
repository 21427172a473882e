"""Test of `slq lattice-report`: the table, CSV, JSON and plots it writes for a subset of the codes."""
import csv
import json
import math

import pytest

from experiments import cli
from experiments.reports import lattice_report
from experiments.reports.code_rows import SPECS

CODES = ("e8-roots", "k12-shell1", "e8-roots^3", "bsq-16", "fsq-l3-d24", "random-n256-d24")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("lattice-report")
    assert cli.main(["lattice-report", "--quick", "--out", str(out), "--samples", "3000",
                     "--dense-samples", "1000", "--codes", ",".join(CODES)]) == 0
    return out


def test_quick_mode_keeps_the_zoo_and_drops_the_196560_point_codes():
    quick = {spec.name for spec in SPECS if spec.quick}
    assert {"d4-shell1", "e6-shell1", "e7-shell1", "k12-shell1", "bw16-shell1", "d4-shell1^6",
            "e8-roots^3", "k12-shell1^2", "fsq-l3-d24", "bsq-16"} <= quick
    assert not {"leech", "leech-shells12", "random-n196560-d24", "bsq-18"} & quick


def test_csv_and_json_hold_the_chosen_codebooks(report):
    with open(report / "report.csv", newline="") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(CODES)
    data = json.loads((report / "report.json").read_text())
    assert data["quick"] is True and data["samples"] == 3000
    by_name = {row["name"]: row for row in data["codebooks"]}
    roots = by_name["e8-roots"]
    assert (roots["size"], roots["dim"], roots["delta_min"], roots["kissing"]) == (240, 8, 1.0, 240)
    assert (roots["neighbours_min"], roots["exact"], roots["exact_max_cosine"]) == (56, True, "1/2")
    assert roots["packing_density_exact"] == "pi**4/384"
    assert roots["bound_levenshtein"] == pytest.approx(0.5, abs=1e-9)  # E8 roots are tight
    assert roots["delta_gap"] == pytest.approx(0.0, abs=1e-5)
    k12 = by_name["k12-shell1"]
    assert (k12["size"], k12["dim"], k12["kissing"], k12["center_density_exact"]) == (756, 12, 756, "1/27")
    product = by_name["e8-roots^3"]
    assert (product["size"], product["exact_max_cosine"], product["neighbours_min"]) == (240**3, "5/6", 168)
    assert product["delta_min"] == pytest.approx(1 / math.sqrt(3))
    assert by_name["bsq-16"]["delta_min"] == pytest.approx(0.5 * math.sqrt(2))
    assert by_name["bsq-16"]["exact_max_cosine"] == "7/8"
    assert by_name["fsq-l3-d24"]["delta_min"] is None and by_name["fsq-l3-d24"]["size"] == 3**24 - 1
    for row in by_name.values():
        assert row["bits"] == pytest.approx(math.log2(row["size"]))
        assert row["bits_per_dim"] == pytest.approx(row["bits"] / row["dim"])
        assert row["quality_samples"] == 3000
        assert 0 < row["mse"] < 2 and row["mean_angle_degrees"] < row["covering_angle_degrees"] < 90
        if row["delta_min"] is not None:  # no code beats its bound
            assert row["max_cosine"] >= row["bound_max_cosine"] - 1e-9
    assert data["theta_series"]["K12"] == {"0": 1, "4": 756, "6": 4032, "8": 20412}


def test_plots_are_pngs(report):
    for name in lattice_report.PLOTS:
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_code_names_are_one_line_errors(tmp_path, capsys):
    assert cli.main(["lattice-report", "--out", str(tmp_path), "--codes", "e8-roots,a2"]) == 2
    assert "unknown codebook names ['a2']" in capsys.readouterr().err
