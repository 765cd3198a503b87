"""Shared by the playground's server tests (the `client` fixture is in conftest.py)."""

#: A quick run: few points, a small network.
SMALL = {"numSamples": 100, "hidden": [3, 2], "batchSize": 10}
