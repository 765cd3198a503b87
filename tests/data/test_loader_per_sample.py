"""A Dataset written as in PyTorch (``__getitem__`` takes one int and returns one sample) is
indexed one sample at a time and its samples are stacked, as torch's default collate does:
before, DataLoader passed it whole batches of indices and it failed with NumPy's errors."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import ArrayDataset, DataLoader, Dataset


class DigitsLike(Dataset):
    def __init__(self, n=10):
        self.images = np.arange(n * 64, dtype=np.float32).reshape(n, 64)
        self.labels = np.arange(n) % 3

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = self.images[idx].reshape(8, 8) / 255.0
        label = int(self.labels[idx])
        return image, label


def test_a_torch_style_dataset_is_collated_like_torch():
    ds = DigitsLike(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 8, 8), (4, 8, 8), (2, 8, 8)]
    assert batches[0][1].dtype == np.int64 and batches[0][1].tolist() == [0, 1, 2, 0]
    np.testing.assert_array_equal(batches[1][0][0], ds.images[4].reshape(8, 8) / 255.0)
    shuffled = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert sorted(np.concatenate([b[1] for b in shuffled]).tolist()) == sorted(ds.labels.tolist())
    x, y = shuffled[0]
    rows = np.rint(x[:, 0, 0] * 255.0 / 64).astype(int)  # each image's sample number
    np.testing.assert_allclose(x, ds.images[rows].reshape(-1, 8, 8) / 255.0)
    np.testing.assert_array_equal(y, ds.labels[rows])


def test_torch_style_dataset_trains_a_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3, rng=0))
    for x, y in DataLoader(DigitsLike(10), batch_size=4, shuffle=True, seed=0):
        loss = nn.cross_entropy(model(sn.tensor(x)), y)
        loss.backward()
    assert model[1].weight.grad.shape == (3, 64)


def test_dict_tensor_and_single_array_samples():
    class Dicts:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": sn.tensor([float(i), 1.0]), "y": i}

    (batch,) = DataLoader(Dicts(), batch_size=3)
    assert set(batch) == {"x", "y"} and isinstance(batch["x"], np.ndarray)
    np.testing.assert_array_equal(batch["x"][:, 0], [0.0, 1.0, 2.0])

    class Arrays:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, i)

    assert [b.shape for b in DataLoader(Arrays(), batch_size=2)] == [(2, 2), (2, 2), (1, 2)]


def test_samples_that_cannot_be_stacked_are_one_line():
    class Ragged:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.zeros(2 + i), 0

    with pytest.raises(ValueError, match=r"field 0.*\(2,\) at sample 0.*\(3,\) at sample 1") as e:
        list(DataLoader(Ragged(), batch_size=4))
    assert "\n" not in str(e.value)


def test_array_dataset_still_gets_whole_batches_of_indices():
    seen = []

    class Spy(ArrayDataset):
        def __getitem__(self, index):
            seen.append(index)
            return super().__getitem__(index)

    list(DataLoader(Spy(np.zeros((6, 2)), np.zeros(6)), batch_size=3, shuffle=True, seed=0))
    assert len(seen) == 2 and all(len(i) == 3 for i in seen)


def test_a_list_of_sample_tuples_is_a_data_set_of_samples_as_in_torch():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    batches = list(DataLoader(list(zip(X, y)), batch_size=2))
    assert [b[0].shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    # a list of arrays is still the fields (X, y), as documented
    assert [b[0].shape for b in DataLoader([X, y], batch_size=2)] == [(2, 2), (2, 2), (1, 2)]
