import numpy as np
import torch
from robustxlt.data.canonical import Pair
from robustxlt.models.batching import collate, encode_pairs, length_grouped_batches, sorted_batches
from transformers import AutoTokenizer


def test_length_grouped_batches_cover_every_example_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000)
    batches = length_grouped_batches(lengths, batch_size=16, group_size=20, rng=np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    assert all(len(b) <= 16 for b in batches)
    grouped_padding = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    random_batches = length_grouped_batches(lengths, batch_size=16, group_size=1, rng=np.random.default_rng(1))
    random_padding = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in random_batches)
    assert grouped_padding < 0.2 * random_padding


def test_length_grouped_batches_are_seeded():
    lengths = np.arange(100)
    a = length_grouped_batches(lengths, 8, 4, np.random.default_rng(3))
    b = length_grouped_batches(lengths, 8, 4, np.random.default_rng(3))
    c = length_grouped_batches(lengths, 8, 4, np.random.default_rng(4))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_collate_pads_to_the_longest_in_the_batch_not_max_length(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    pairs = [Pair("apple pear", "car", 1), Pair("red", "blue green black white", 0)]
    data = encode_pairs(tokenizer, pairs, max_length=64)
    batch = collate(data, np.array([0, 1]), tokenizer.pad_token_id)
    assert batch["input_ids"].shape == (2, 8)  # [CLS] 1 [SEP] 4 [SEP] = 8, far below 64
    assert batch["attention_mask"].sum().item() == len(data.input_ids[0]) + len(data.input_ids[1])
    assert torch.equal(batch["labels"], torch.tensor([1, 0]))
    assert batch["input_ids"][0, len(data.input_ids[0]) :].eq(tokenizer.pad_token_id).all()


def test_sorted_batches_are_by_decreasing_length():
    lengths = np.array([3, 9, 1, 7])
    assert [b.tolist() for b in sorted_batches(lengths, 2)] == [[1, 3], [0, 2]]
