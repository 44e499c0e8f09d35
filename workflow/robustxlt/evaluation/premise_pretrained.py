"""The premise measured on the pretrained encoder (rule premise_pretrained): the units of ε and σ exactly as training
computes them, and the shift of every language's parallel test rows from English's at both injection points.

- **Units.** At the word embeddings, the mean norm of the embedding rows of the distinct token ids of English train
  (robustxlt.models.perturbation.mean_token_norm); at the last hidden states, the mean norm of the pretrained
  encoder's last hidden states over English train's real tokens (robustxlt.training.injection.mean_hidden_norm).
  A run's ε or σ times its point's unit is its radius; the analysis divides every shift by these units.
- **Shift.** As in each evaluation job (robustxlt.evaluation.premise), on the test sets as encode_test_sets wrote
  them, with the encoder alone (no classification head, so no consistency).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import torch

from robustxlt.data.canonical import read_pairs
from robustxlt.evaluation.premise import SOURCE, PremiseMeasurement, RowVectors, real_token_ids, real_token_masks
from robustxlt.evaluation.zero_shot import EvaluationSet, test_set_pairs
from robustxlt.models.batching import encode_pairs
from robustxlt.models.frozen_layers import FrozenTestStates, predict_from_states
from robustxlt.models.perturbation import mean_token_norm
from robustxlt.models.prediction import embedding_lookup, encode_hidden
from robustxlt.models.runtime import configure_threads, select_device
from robustxlt.training.injection import mean_hidden_norm, unit_rows
from robustxlt.training.settings import TrainingSettings

log = logging.getLogger(__name__)


def pretrained_units(
    encoder: torch.nn.Module, tokenizer, train_file: Path, max_length: int, batch_size: int, examples: int | None
) -> dict:
    """The units of ε and σ at both injection points, from English train, as training computes them (on the same
    `unit_rows`: only those are tokenised)."""
    pairs = read_pairs(train_file)
    english = encode_pairs(tokenizer, [pairs[i] for i in unit_rows(len(pairs), examples)], max_length)
    vocabulary = torch.tensor(sorted({i for ids in english.input_ids for i in ids}))
    return {
        "embeddings": mean_token_norm(encoder.get_input_embeddings().weight, vocabulary),
        "hidden": mean_hidden_norm(encoder, english, batch_size, tokenizer.pad_token_id),
    }


def premise_pretrained(
    model_dir: Path,
    train_file: Path,
    test_sets: list[EvaluationSet],
    out_file: Path,
    run: dict,
    max_length: int,
    batch_size: int = 64,
    threads: int = 1,
    frozen_states: Path | None = None,
    unit_examples: int | None = TrainingSettings.unit_examples,
) -> dict:
    """Write `out_file` (JSON): the pretrained encoder's units (measured on `unit_examples` English pairs), its mean
    token norm over the English test tokens, and every other standard-setting language's shift from English
    (absolute), as each evaluation job writes it.
    With `frozen_states` (rule frozen_test_states) the test sets run only the layers above the frozen ones."""
    from transformers import AutoModel, AutoTokenizer

    configure_threads(threads)
    started = time.perf_counter()
    device = select_device()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = AutoModel.from_pretrained(model_dir).to(device)
    units = pretrained_units(encoder, tokenizer, train_file, max_length, batch_size, unit_examples)
    units_seconds = time.perf_counter() - started
    special = set(tokenizer.all_special_ids)
    # The measurement runs in fp32: states computed at another precision would change its numbers.
    states = FrozenTestStates.open(frozen_states) if frozen_states else None
    if states is not None and states.precision != "fp32":
        log.info(
            "frozen-layer states in %s are %s: measuring with the whole encoder", states.directory, states.precision
        )
        states = None
    if states is not None:
        states.check(encoder, str(model_dir), "fp32")
    measurement = PremiseMeasurement(embedding_lookup(encoder))
    standard = [t for t in test_sets if t.lang1 == t.lang2]
    for test_set in sorted(standard, key=lambda t: t.lang1 != SOURCE):
        data, _ = test_set_pairs(test_set, tokenizer, max_length)
        if states is None:
            hidden = encode_hidden(encoder, data, batch_size, tokenizer.pad_token_id, special)
        else:
            real = real_token_masks(data.input_ids, special)
            hidden = predict_from_states(encoder, states.layers, states.load(test_set.name, data), batch_size,
                                         "fp32", real)[1]  # fmt: skip
        measurement.add(
            test_set.lang1, RowVectors(read_pairs(test_set.path), real_token_ids(data.input_ids, special), hidden)
        )
        log.info("%s: %d rows measured", test_set.lang1, len(data))
    summary = {
        **run,
        "units": units,
        **measurement.summary(),
        "units_seconds": units_seconds,
        "seconds": time.perf_counter() - started,
    }
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, out_file)
    return summary
