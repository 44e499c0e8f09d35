"""The frozen layers' output for every test set of a task, computed once per model for all its checkpoints (rule
frozen_test_states; robustxlt.models.frozen_layers): with `freeze_layers: N` and `cache_frozen_layers: true`, each
evaluation job and the premise measurement then run only the layers above the bottom N.

The states come from the pretrained encoder in eval mode at the evaluation's precision, stored as fp32
(`{name}.npy` per test set, its rows' tokens in order, with `meta.json`: the layers, the digest of the weights they
came from, the precision, and per test set its rows, tokens and a digest of its token ids). About 1.5 kB per token
for a 384-wide model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from robustxlt.evaluation.zero_shot import EvaluationSet, test_set_pairs
from robustxlt.models.frozen_layers import STATES_META, frozen_digest, frozen_states, save_test_states, token_ids_digest
from robustxlt.models.runtime import attention_implementation, configure_threads, resolve_precision, select_device

log = logging.getLogger(__name__)

# The states go to disk (fp32); more than this is refused before any is computed.
MAX_STATES_BYTES = 32 * 2**30


def write_frozen_test_states(
    model_dir: Path,
    test_sets: list[EvaluationSet],
    out_dir: Path,
    layers: int,
    max_length: int,
    batch_size: int = 64,
    precision: str = "auto",
    threads: int = 1,
) -> dict:
    """Write every test set's frozen-layer states into `out_dir` (assembled in `out_dir`.partial, moved into place
    in one step) and return the meta."""
    from transformers import AutoModel, AutoTokenizer

    configure_threads(threads)
    started = time.perf_counter()
    device = select_device()
    precision = resolve_precision(precision, device)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = AutoModel.from_pretrained(model_dir, attn_implementation=attention_implementation(device, precision)).to(
        device
    )
    encoded = [(test_set, test_set_pairs(test_set, tokenizer, max_length)[0]) for test_set in test_sets]
    tokens = sum(int(data.lengths().sum()) for _, data in encoded)
    size = tokens * encoder.config.hidden_size * 4
    if size > MAX_STATES_BYTES:
        raise ValueError(
            f"training setting cache_frozen_layers: the frozen layers' output for the {tokens:,} test tokens of "
            f"{len(test_sets)} test sets would take {size / 2**30:.1f} GiB on disk (at most "
            f"{MAX_STATES_BYTES / 2**30:.0f}); set cache_frozen_layers to false"
        )
    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    sets = {}
    for test_set, data in encoded:
        states = frozen_states(encoder, layers, data, tokenizer.pad_token_id, batch_size, precision)
        save_test_states(partial, test_set.name, states)
        sets[test_set.name] = {
            "rows": len(data),
            "tokens": int(data.lengths().sum()),
            "token_ids_sha256": token_ids_digest(data),
        }
        log.info("%s: frozen-layer states of %d pairs", test_set.name, len(data))
    meta = {
        "model": str(model_dir),
        "layers": layers,
        "digest": frozen_digest(encoder, layers),
        "precision": precision,
        "max_length": max_length,
        "sets": sets,
        "seconds": time.perf_counter() - started,
    }
    (partial / STATES_META).write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(partial, out_dir)
    return meta
