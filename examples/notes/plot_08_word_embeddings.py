"""
Distributed representations: word embeddings and king - man + woman
===================================================================

The notes' chapter on distributed representations (*rappresentazioni distribuite*). A
one-hot code gives each word its own axis: every pair of words is equally far apart, and
nothing is shared. A word embedding (*word embedding*, *vettore di parola*) gives each word a
short dense vector, learned so that words used in similar contexts get similar vectors; a
property such as gender or royalty is then spread over all the coordinates (distributed), and
becomes a *direction*: ``king - man + woman`` lands near ``queen``.

Here word2vec (skip-gram with negative sampling, :func:`sinapsi.embeddings.train_word2vec`)
learns 20-dimensional vectors from a small synthetic corpus in which three factors, gender,
status and age, decide the words of each sentence: a corpus built so the mechanism shows in
a second of training, with nothing to download.
"""

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi.embeddings import train_word2vec

# %%
# A corpus with planted factors
# -----------------------------
# Each sentence picks a gender (male/female), a status (royal/common) and an age
# (adult/young). Its subject is fixed by the three (king, queen, man, woman, prince, princess,
# boy, girl), and the other words are drawn from each factor's context words and some shared
# fillers, in random order. So "king" and "man" share their male and adult contexts and
# differ only in the royal ones, exactly as "queen" and "woman" do.

SUBJECTS = {
    ("male", "royal", "adult"): "king", ("female", "royal", "adult"): "queen",
    ("male", "common", "adult"): "man", ("female", "common", "adult"): "woman",
    ("male", "royal", "young"): "prince", ("female", "royal", "young"): "princess",
    ("male", "common", "young"): "boy", ("female", "common", "young"): "girl",
}
CONTEXT = {
    "male": ["he", "his", "him", "male"],
    "female": ["she", "her", "hers", "female"],
    "royal": ["palace", "crown", "throne", "royal"],
    "common": ["field", "village", "farm", "market"],
    "adult": ["adult", "old", "grown", "wise"],
    "young": ["young", "child", "small", "school"],
}
FILLERS = ["the", "a", "and", "of", "to", "in", "is", "was", "on", "at", "with", "for"]


def royal_corpus(n_sentences, seed):
    """Sentences whose words are decided by three independent factors (see above)."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n_sentences):
        factors = (rng.choice(["male", "female"]), rng.choice(["royal", "common"]),
                   rng.choice(["adult", "young"]))
        words = [SUBJECTS[factors]]
        for factor in factors:
            words += list(rng.choice(CONTEXT[factor], 2))
        words += list(rng.choice(FILLERS, 3))
        rng.shuffle(words)
        sentences.append([str(w) for w in words])
    return sentences


corpus = royal_corpus(1000, seed=0)
for sentence in corpus[:3]:
    print(" ".join(sentence))

# %%
# Training word2vec
# -----------------
# Skip-gram learns, for every word, a vector that predicts the words around it (window 4),
# against 5 random "negative" words per pair. 3 epochs over the 10,000 words.

vectors = train_word2vec(corpus, dim=20, window=4, negative=5, min_count=1, sample=0, epochs=3,
                         batch_size=256, seed=42)
print(f"{len(vectors)} words, vectors of {vectors.vectors.shape[1]} numbers")
nearest = vectors.most_similar("king", topn=4)
print("nearest to king:", ", ".join(f"{w} {s:.2f}" for w, s in nearest))

# %%
# One-hot versus distributed
# --------------------------
# The cosine similarity between the eight subjects. One-hot codes are orthogonal: every
# similarity is 0, and "king" is as far from "queen" as from "girl". The learned vectors share
# what the words share: king is closest to the words that differ from it by one factor
# (queen, man, prince), farther from those that differ by two, farthest from girl, which
# differs by all three.

words = list(SUBJECTS.values())
unit = np.stack([vectors[w] / np.linalg.norm(vectors[w]) for w in words])
similarity = unit @ unit.T
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for ax, matrix, title in [(axes[0], np.eye(len(words)), "one-hot codes"),
                          (axes[1], similarity, "learned embeddings (dim 20)")]:
    image = ax.imshow(matrix, cmap="RdBu", vmin=-1, vmax=1)
    ax.set_xticks(range(len(words)), words, rotation=60, ha="right")
    ax.set_yticks(range(len(words)), words)
    ax.set_title(f"cosine similarity: {title}")
fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
plt.show()

king = similarity[words.index("king")]
one_factor = [king[words.index(w)] for w in ("queen", "man", "prince")]
print("cos(king, .):", ", ".join(f"{w} {s:.2f}" for w, s in zip(words, king)))
assert min(one_factor) > king[words.index("girl")] + 0.3

# %%
# king - man + woman = queen
# --------------------------
# Analogies by vector arithmetic (3CosAdd, as word2vec and gensim compute them: the word
# nearest to ``b - a + c`` by cosine, the three query words excluded). Each factor is a
# direction, so the same arithmetic works along every factor. The notes' form, with the
# adjectives, works too: ``king - male + female``.

analogies = [
    ("man", "king", "woman", "queen"), ("male", "king", "female", "queen"),
    ("boy", "prince", "girl", "princess"), ("man", "boy", "woman", "girl"),
    ("queen", "princess", "king", "prince"), ("woman", "queen", "man", "king"),
]
for a, b, c, expected in analogies:
    (found, score), *_ = vectors.analogy(a, b, c)
    print(f"{b} - {a} + {c} = {found} (cosine {score:.2f})")
    assert found == expected, (a, b, c, found)

# %%
# The gender direction is one direction: ``king - queen`` is almost parallel to
# ``man - woman`` and to ``boy - girl``.


def direction(x, y):
    d = vectors[x] - vectors[y]
    return d / np.linalg.norm(d)


parallel = [float(direction("king", "queen") @ direction(x, y))
            for x, y in [("man", "woman"), ("boy", "girl"), ("prince", "princess")]]
print("cos(king - queen, man - woman / boy - girl / prince - princess):", np.round(parallel, 2))
assert min(parallel) > 0.8

# %%
# :func:`sinapsi.viz.plot_embeddings` draws the words in the plane of their first two
# principal components, with the analogy's parallelogram: the arrows man -> king and
# woman -> queen (the "royalty" direction) are parallel, and so are man -- woman and
# king -- queen (the "gender" direction).

fig = sn.viz.plot_embeddings(vectors, ["prince", "princess", "he", "she", "palace", "field"],
                             analogy=("man", "king", "woman", "queen"))
plt.show()
