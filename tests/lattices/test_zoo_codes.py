"""Tests of the zoo's spherical codes: shell codebooks, products, projected grids, Λ24 shells 1+2, quantization quality."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from lattices import metrics, spherical, zoo
from lattices.codebook import Codebook
from lattices.grid_codes import GridCode
from lattices.product_code import ProductCode
from lattices.quantization_quality import best_cosines, quantization_quality, uniform_directions
from lattices.zoo.codes import leech_shells12_max_cosine, shell_codebook

EXACT_MAX_COSINE = {"d4": Fraction(1, 2), "e6": Fraction(1, 2), "e7": Fraction(1, 2),
                    "e8": Fraction(1, 2), "k12": Fraction(1, 2), "bw16": Fraction(1, 2)}


@pytest.mark.parametrize("name", ["d4", "e6", "e7", "k12", "bw16"])
def test_shell_codes_keep_the_lattice_inner_products(name):
    code = spherical.by_name(f"{name}-shell1")
    integers = zoo.minimal_vectors(name).astype(np.float64)
    assert code.dim == zoo.lattice(name).rank and code.size == integers.shape[0]
    expected = integers @ integers.T / zoo.lattice(name).min_norm
    assert np.abs(code.vectors @ code.vectors.T - expected).max() < 1e-12
    stats = metrics.neighbour_statistics(zoo.minimal_vectors(name))
    assert stats.exact_max_cosine == EXACT_MAX_COSINE[name]


def test_product_code_statistics_match_all_pairs_of_the_materialized_product():
    component = shell_codebook("d4")
    product = ProductCode(component, 2)
    pairs = np.array([np.concatenate([a, b]) for a, b in itertools.product(component.integer_vectors,
                                                                            repeat=2)])
    stats = metrics.neighbour_statistics(pairs)
    assert product.size == pairs.shape[0] == 576 and product.dim == 8
    assert product.max_cosine(Fraction(1, 2)) == stats.exact_max_cosine == Fraction(3, 4)
    assert product.delta_min(Fraction(1, 2)) == pytest.approx(stats.delta_min)
    assert stats.min_neighbours == 2 * 8  # g · (neighbours of a D4 root)


def test_product_search_matches_dense_search_on_the_materialized_product():
    component = shell_codebook("e6")
    product = ProductCode(component, 2)
    materialized = np.array([np.concatenate([a, b]) / math.sqrt(2)
                             for a, b in itertools.product(component.vectors, repeat=2)])
    u = uniform_directions(300, 12, np.random.default_rng(3))
    dense = (u @ materialized.T).max(axis=1)
    assert np.abs(best_cosines(product, u) - dense).max() < 1e-12


@pytest.mark.parametrize("levels, dim", [(2, 6), (3, 5), (4, 3), (5, 4)])
def test_grid_code_search_matches_the_materialized_grid(levels, dim):
    code = GridCode(levels, dim)
    grid = np.array(list(itertools.product(range(levels), repeat=dim)), dtype=np.float64)
    grid = 2 * grid - (levels - 1) if levels % 2 == 0 else grid - (levels - 1) // 2
    grid = grid[grid.any(axis=1)]
    assert code.size == grid.shape[0]
    unit = grid / np.linalg.norm(grid, axis=1, keepdims=True)
    u = uniform_directions(500, dim, np.random.default_rng(levels))
    assert np.abs(code.best_cosines(u) - (u @ unit.T).max(axis=1)).max() < 1e-12


def test_leech_search_agrees_with_dense_search_and_quality_is_seeded():
    leech = spherical.leech_shell()
    u = uniform_directions(200, 24, np.random.default_rng(5))
    assert np.abs(best_cosines(leech, u) - (u @ leech.vectors.T).max(axis=1)).max() < 1e-12
    first, again = quantization_quality(leech, 3000, seed=1), quantization_quality(leech, 3000, seed=1)
    assert first == again and first.samples == 3000
    assert quantization_quality(leech, 3000, seed=2) != first
    # a unit vector and a codeword at angle φ are 2 − 2cos φ apart in squared distance
    assert first.mse == pytest.approx(2 - 2 * math.cos(math.radians(first.mean_angle_degrees)), rel=0.05)
    assert 0 < first.mean_angle_degrees < first.covering_angle_degrees < 60  # δ_min = 1 ↔ 60°


def test_random_code_and_directions_from_one_seed_are_independent():
    code = spherical.random_code(64, 3, seed=0)
    assert quantization_quality(code, 500, seed=0).mean_angle_degrees > 1.0


def test_quality_grows_with_the_code():
    coarse = quantization_quality(shell_codebook("e8"), 4000)
    fine = quantization_quality(spherical.e8_shells12(), 4000)
    assert fine.mse < coarse.mse and fine.covering_angle_degrees < coarse.covering_angle_degrees


def test_leech_shells12_delta_min_is_exact():
    result = leech_shells12_max_cosine()
    assert result.max_cosine == sympy.Rational(2, 3) and result.shells == (6, 6)
    assert result.delta_min == sympy.sqrt(sympy.Rational(2, 3))
    x, y = result.witness
    assert (int(x @ x), int(y @ y), int(x @ y)) == (48, 48, 32)  # √8 coordinates: norms 6, 6; x·y = 4


@pytest.mark.parametrize("call, error", [
    (lambda: GridCode(1, 4), ValueError),
    (lambda: GridCode(3, 0), ValueError),
    (lambda: GridCode(3.0, 4), TypeError),
    (lambda: GridCode(9, 64), ValueError),
    (lambda: ProductCode(shell_codebook("d4"), 0), ValueError),
    (lambda: ProductCode(np.eye(3), 2), TypeError),
    (lambda: quantization_quality(shell_codebook("d4"), 0), ValueError),
    (lambda: quantization_quality(np.eye(3), 10), TypeError),
    (lambda: quantization_quality(shell_codebook("d4"), 10, seed=-1), ValueError),
    (lambda: spherical.by_name("a2-shell1"), ValueError),
    (lambda: Codebook.from_float("bad", np.array([[np.nan, 1.0]])), ValueError),
])
def test_bad_input_is_rejected(call, error):
    with pytest.raises(error):
        call()
