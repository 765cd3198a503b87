"""plot_embeddings: the PCA projection, one label per word, the analogy's parallelogram (two
arrows, two dashed sides), a PNG on disk, and its errors by regex."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from PIL import Image

from sinapsi.embeddings import KeyedVectors
from sinapsi.viz.embeddings import plot_embeddings, project_pca

ANALOGY = ("man", "king", "woman", "queen")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def kv():
    """Planted geometry: royal = +e0, female = +e1, plus small noise and unrelated words."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal(10) * 0.1
    royal, female = np.eye(10)[0], np.eye(10)[1]
    vecs = {
        "man": base,
        "king": base + royal,
        "woman": base + female,
        "queen": base + royal + female,
        "apple": rng.standard_normal(10),
        "pear": rng.standard_normal(10),
    }
    return KeyedVectors(list(vecs), np.stack(list(vecs.values())))


def _dashed(ax):
    return [line for line in ax.lines if line.get_linestyle() == "--"]


def test_labels_and_png(kv, tmp_path):
    words = ["apple", "pear", "king", "queen"]
    fig = plot_embeddings(kv, words)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == sorted(words)
    assert not [p for p in ax.patches if isinstance(p, FancyArrowPatch)] and not _dashed(ax)
    assert ax.get_xlabel().startswith("PC1 (") and "variance" in ax.get_ylabel()
    assert len(ax.collections[0].get_offsets()) == 4
    path = tmp_path / "emb.png"
    fig.savefig(path)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 300


def test_analogy_parallelogram(kv):
    # duplicates counted once; raw vectors, so the planted equal offsets survive the projection
    fig = plot_embeddings(kv, ["apple", "king"], analogy=ANALOGY, normalize=False)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert sorted(labels) == sorted(["apple", "king", "man", "woman", "queen"])
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 2
    dashed = _dashed(ax)
    assert len(dashed) == 2
    # the sides join man-woman and king-queen: the offsets (planted) are parallel and equal
    points = dict(zip(labels, ax.collections[0].get_offsets()))
    for line, (a, b) in zip(dashed, [("man", "woman"), ("king", "queen")]):
        np.testing.assert_allclose(line.get_xydata(), [points[a], points[b]])
    np.testing.assert_allclose(
        points["king"] - points["man"], points["queen"] - points["woman"], atol=1e-9
    )
    assert "king - man + woman" in ax.get_title()


def test_project_pca_matches_covariance_eigenvectors():
    X = np.random.default_rng(1).standard_normal((20, 5)) * [5, 3, 1, 0.5, 0.1]
    points, explained = project_pca(X)
    assert points.shape == (20, 2) and explained[0] > explained[1] > 0
    np.testing.assert_allclose(points.mean(axis=0), 0, atol=1e-12)
    eig = np.linalg.eigvalsh(np.cov(X.T))[::-1]
    np.testing.assert_allclose(points.var(axis=0, ddof=1), eig[:2], rtol=1e-10)


def test_errors(kv):
    with pytest.raises(KeyError, match=r"2 words not in the vectors' vocabulary: 'kingg', 'x'"):
        plot_embeddings(kv, ["king", "kingg", "x"])
    with pytest.raises(KeyError, match=r"1 word not in .*'princess'"):
        plot_embeddings(kv, ["apple"], analogy=("man", "king", "woman", "princess"))
    with pytest.raises(ValueError, match=r"at least 2 distinct words.*\['king'\]"):
        plot_embeddings(kv, ["king", "king"])
    with pytest.raises(ValueError, match=r"at least 2 distinct words"):
        plot_embeddings(kv, [])
    with pytest.raises(ValueError, match=r"analogy must be four words"):
        plot_embeddings(kv, ["apple"], analogy=("man", "king", "woman"))
    with pytest.raises(ValueError, match=r"method must be 'pca', got 'tsne'"):
        plot_embeddings(kv, ["apple", "pear"], method="tsne")
    with pytest.raises(TypeError, match=r"words must be str, got 3"):
        plot_embeddings(kv, ["apple", 3])


def test_a_word_whose_vector_is_not_finite_is_named():
    vectors = {"a": np.ones(5), "b": np.arange(5.0), "d": np.array([np.nan, 0, 0, 0, 0.0])}
    with pytest.raises(ValueError, match=r"the vector of 'd' holds 1 NaN or inf value.*diverged"):
        plot_embeddings(vectors, ["a", "b", "d"])
