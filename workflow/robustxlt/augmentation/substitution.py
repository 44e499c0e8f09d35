"""RS-DA: random synonym substitution of the English training pairs (the paper's data augmentation).

Each training pair yields `copies` perturbed copies and only those are trained on; dev and test are
never perturbed. Sentence 1 and sentence 2 are perturbed independently. A sentence is split on
whitespace (the whitespace itself is kept as it was); every token that has neighbours in the synonym
table is replaced by a uniform draw from {token} ∪ neighbours(token), so it stays with probability
1/(k+1) for k neighbours. Punctuation is not split off: "good," has no entry and never changes.

Which tokens and neighbours take part is the SubstitutionRule's. RELEASED is the authors' released script
(`perturb.py`): every token the table holds, matched exactly, drawn among all its neighbours. The project's
refinements, each a setting of the method: `stop_words` (the 25 most frequent English function words are never
substituted nor substituted in), `case_fallback` (a token without an entry is looked up lowercase, and a
replacement found so gets the token's initial capital: "Good" -> "Well") and `max_neighbours` (the first 8).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robustxlt.augmentation.synonyms import FUNCTION_WORDS, MAX_NEIGHBOURS, read_synonym_table
from robustxlt.data.canonical import Pair, read_pairs, write_manifest, write_pairs

log = logging.getLogger(__name__)
_WHITESPACE = re.compile(r"(\s+)")
_TRAIN_FILE = re.compile(r"^train-[^/]*\.tsv$")


@dataclass(frozen=True)
class SubstitutionRule:
    """Which words of the table a substitution uses (the defaults: the project's refinements)."""

    stop_words: bool = True
    case_fallback: bool = True
    max_neighbours: int | None = MAX_NEIGHBOURS

    def table(self, neighbours: dict[str, list[str]]) -> dict[str, list[str]]:
        """The neighbours this rule draws from: stop words dropped as words and as neighbours, then the first
        `max_neighbours` kept; words left without neighbours dropped."""
        stop = set(FUNCTION_WORDS) if self.stop_words else set()
        chosen = {
            word: [other for other in others if other not in stop][: self.max_neighbours]
            for word, others in neighbours.items()
            if word not in stop
        }
        return {word: others for word, others in chosen.items() if others}


RELEASED = SubstitutionRule(stop_words=False, case_fallback=False, max_neighbours=None)


def perturb_sentence(
    sentence: str,
    neighbours: dict[str, list[str]],
    rng: np.random.Generator,
    rate: float = 1.0,
    case_fallback: bool = True,
) -> tuple[str, int]:
    """`sentence` with each word that has neighbours redrawn uniformly from itself and them (with probability
    `rate`; 1.0 = every such word, the paper's script); and the swap count. `neighbours` is a rule's table
    (SubstitutionRule.table); `case_fallback` looks a word without an entry up lowercase."""
    pieces = _WHITESPACE.split(sentence)  # words at even positions, the whitespace between at odd ones
    substitutions = 0
    for i in range(0, len(pieces), 2):
        word = pieces[i]
        options = neighbours.get(word)
        recase = False
        if not options and word and case_fallback:
            options = neighbours.get(word.lower())
            recase = word[:1].isupper()
        if not options or (rate < 1.0 and rng.random() >= rate):
            continue
        choice = int(rng.integers(len(options) + 1))
        if choice == 0:  # the draw kept the word itself
            continue
        replacement = options[choice - 1]
        if recase:
            replacement = replacement[:1].upper() + replacement[1:]
        if replacement != word:
            pieces[i] = replacement
            substitutions += 1
    return "".join(pieces), substitutions


def augment_pairs(
    pairs: list[Pair],
    neighbours: dict[str, list[str]],
    copies: int,
    seed: int,
    rate: float = 1.0,
    rule: SubstitutionRule = SubstitutionRule(),
) -> tuple[list[Pair], dict]:
    """`copies` perturbed copies of every pair (originals dropped, labels kept) under `rule`, and statistics of
    the run."""
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"substitution_rate must be in (0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    table = rule.table(neighbours)
    augmented: list[Pair] = []
    changed_examples = changed_sentences = substitutions = 0
    for pair in pairs:
        for _ in range(copies):
            sentence1, count1 = perturb_sentence(pair.sentence1, table, rng, rate, rule.case_fallback)
            sentence2, count2 = perturb_sentence(pair.sentence2, table, rng, rate, rule.case_fallback)
            augmented.append(Pair(sentence1, sentence2, pair.label))
            substitutions += count1 + count2
            changed_sentences += (count1 > 0) + (count2 > 0)
            changed_examples += (count1 + count2) > 0
    n = len(augmented)
    stats = {
        "input_pairs": len(pairs),
        "copies": copies,
        "substitution_rate": rate,
        "output_pairs": n,
        "seed": seed,
        "rule": dataclasses.asdict(rule),
        "table_words": len(table),
        "fraction_examples_changed": changed_examples / n if n else 0.0,
        "fraction_sentences_changed": changed_sentences / (2 * n) if n else 0.0,
        "mean_substitutions_per_sentence": substitutions / (2 * n) if n else 0.0,
    }
    return augmented, stats


def augment_file(
    train_file: Path,
    synonyms_file: Path,
    out_file: Path,
    copies: int,
    seed: int,
    rate: float = 1.0,
    rule: SubstitutionRule = SubstitutionRule(),
) -> dict:
    """Write the RS-DA copies of `train_file` (a `train-*.tsv`) to `out_file`, its stats beside it; return the stats."""
    train_file, out_file = Path(train_file), Path(out_file)
    for path, role in ((train_file, "input"), (out_file, "output")):
        if not _TRAIN_FILE.match(path.name):
            raise ValueError(f"{path}: RS-DA {role} must be a train-*.tsv file; dev and test are never augmented")
    if train_file.resolve() == out_file.resolve():
        raise ValueError(f"{out_file}: the augmented copies must not overwrite the original training file")
    neighbours = read_synonym_table(synonyms_file)
    augmented, stats = augment_pairs(read_pairs(train_file), neighbours, copies, seed, rate, rule)
    write_pairs(out_file, augmented)
    table = json.loads(Path(synonyms_file).read_text(encoding="utf-8"))
    stats.update(
        train_file=str(train_file),
        synonyms_file=str(synonyms_file),
        synonym_source=table.get("source"),
        synonym_version=table.get("version"),
    )
    write_manifest(out_file.with_suffix(".stats.json"), stats)
    log.info(
        "RS-DA: %d pairs -> %d copies, %.1f%% of examples changed, %.2f substitutions per sentence",
        stats["input_pairs"], stats["output_pairs"], 100 * stats["fraction_examples_changed"],
        stats["mean_substitutions_per_sentence"],
    )  # fmt: skip
    return stats
