"""Strength sweeps chosen on English dev: a method may list values for its strength settings.

`adversarial: {kind: adversarial, epsilon: [0.01, 0.03]}` makes one variant per value,
`adversarial@epsilon=0.01` and `adversarial@epsilon=0.03`, each its own training run on the first seed.
The variant with the best **English dev** accuracy is the method's chosen variant: it alone is trained on
the other seeds, evaluated zero-shot and carried into the tables (the zero-shot protocol: no target-language
data takes part in the choice). A method with scalar settings is its own single variant, named as the method.

Torch-free: the workflow imports it to build the DAG.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

# Settings that may be given as a list of values to choose from (a grid when several are lists).
SWEEPABLE = ("epsilon", "sigma", "step_size", "copies", "substitution_rate", "steps", "draws", "weight")
SEPARATOR = "@"  # never in a configured method name (the schema's name pattern), so variant names cannot collide


def _value_text(value: float | int) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def variants(method: str, settings: dict) -> dict[str, dict]:
    """{variant name: its scalar settings} in config order (the grid's last key varies fastest)."""
    swept = [key for key in SWEEPABLE if isinstance(settings.get(key), list)]
    grid = list(itertools.product(*(settings[key] for key in swept)))
    if len(grid) == 1:  # nothing to choose: the method itself, with a one-value list as its value
        return {method: {**settings, **dict(zip(swept, grid[0]))}}
    out = {}
    for values in grid:
        chosen = dict(zip(swept, values))
        name = method + SEPARATOR + ",".join(f"{k}={_value_text(v)}" for k, v in chosen.items())
        out[name] = {**settings, **chosen}
    return out


def base_method(variant: str) -> str:
    """The configured method a variant belongs to."""
    return variant.split(SEPARATOR, 1)[0]


def strength_label(variant: str) -> str:
    """The chosen values of a variant, e.g. `epsilon=0.01`; empty for an unswept method."""
    return variant.split(SEPARATOR, 1)[1] if SEPARATOR in variant else ""


def candidate_record(variant: str, train_log: Path) -> dict:
    """A variant's English-dev outcome from its training log: best dev accuracy with its standard error, its step,
    whether the best checkpoint predicted one class on dev, and whether the run converged. Only English dev is
    read: the log holds nothing else to choose by."""
    events = [json.loads(line) for line in Path(train_log).read_text(encoding="utf-8").splitlines()]
    ends = [event for event in events if event["event"] == "end"]
    if not ends:
        raise ValueError(f"{train_log}: no 'end' event; the training did not finish, re-run its train job")
    end, n_dev = ends[-1], events[0]["dev_examples"]
    accuracy = end["best_dev_accuracy"]
    return {
        "variant": variant,
        "strength": strength_label(variant),
        "dev_accuracy": accuracy,
        "dev_examples": n_dev,
        # The binomial standard error of a dev accuracy: how far apart two candidates must be to tell them apart.
        "dev_standard_error": math.sqrt(max(accuracy * (1 - accuracy), 0.0) / n_dev),
        "best_step": end["best_step"],
        "dev_collapsed": end.get("dev_collapsed", False),
        "converged": end.get("converged", True),
    }


def choose(candidates: list[dict]) -> dict:
    """The candidate with the highest English dev accuracy; a tie goes to the one listed first in the config."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    best = max(range(len(candidates)), key=lambda i: (candidates[i]["dev_accuracy"], -i))
    if math.isnan(candidates[best]["dev_accuracy"]):
        raise ValueError("every candidate's English dev accuracy is NaN")
    return candidates[best]


def close_to(candidate: dict, chosen: dict) -> bool:
    """Whether a candidate's English dev accuracy is within one standard error of the chosen one's (the chosen
    candidate itself included): English dev cannot tell the two apart."""
    return chosen["dev_accuracy"] - candidate["dev_accuracy"] <= chosen["dev_standard_error"]


def select_strength(method: str, seed: int, variant_logs: dict[str, Path], out_file: Path) -> dict:
    """Write `out_file` (JSON): every variant's English dev record on `seed` and the chosen variant."""
    candidates = [candidate_record(variant, log) for variant, log in variant_logs.items()]
    chosen = choose(candidates)
    selection = {
        "method": method,
        "selection_seed": seed,
        "criterion": "best English dev accuracy (ties: first in config order)",
        "chosen": chosen["variant"],
        "candidates": [
            {**c, "close_to_chosen": close_to(c, chosen), "chosen": c["variant"] == chosen["variant"]}
            for c in candidates
        ],
        # The choice is in doubt when the chosen run or one within a standard error of it was cut short.
        "doubtful": any(not c["converged"] for c in candidates if close_to(c, chosen)),
    }
    out_file = Path(out_file)
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_text(json.dumps(selection, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out_file)
    return selection


def chosen_variant(selection_file: Path) -> str:
    return json.loads(Path(selection_file).read_text(encoding="utf-8"))["chosen"]
