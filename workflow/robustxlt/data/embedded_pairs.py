"""The embedded benchmark's splits and pairs (robustxlt.data.embedded_benchmark).

- Fields, not pairs, are split, by label group: fields whose labels are near-duplicates stay together, and each
  help text belongs to one field, so no sentence occurs in two splits. Label groups come in a seeded order.
- Test pool: every label group with a field translated into all target languages (the PAWS-X languages), with
  its fields that are translated into any benchmark language (the others are dropped: their label is a test
  label). The pool is paired once, in English; language L's test set is the English test rows whose field and
  donor are both translated into L. A test row keeps one id in every language (`PoolRow.id`), so the languages'
  rows are parallel to the English rows by id, each language holding a subset of them.
- Dev: further label groups (all their fields, translated or not) until they give the requested dev pairs (at
  most `max_dev_share` of the non-test fields); train: the rest.
- Pairs: each field gives one positive (its own help text) and one negative (a donor's help text in the same
  word-overlap bin with the label and the same length bucket); see `field_pairs`. Test donors are preferably
  translated into the field's languages (a couple then reaches as many test sets as it can) and, in them, share
  a word with the label exactly when the true help text does.

Each step draws from its own seeded stream, so a cap on one split changes no other split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from robustxlt.data.embedded_fields import Field, near_duplicate_key, set_jaccard, word_tokens

# Random streams of one seed: label-group order, test pairs and order, dev pairs, train pairs.
GROUPS, TEST, DEV, TRAIN = range(4)


def stream(seed: int, which: int) -> np.random.Generator:
    return np.random.default_rng([seed, which])


def _length_bucket(text: str) -> int:
    return int(len(text.split()) >= 10)


def overlap_bin(value: float, bin_width: float) -> int:
    """The bin of a Jaccard overlap: exact zero is its own bin (-1), else floor(value / bin_width)."""
    return -1 if value == 0 else int(value / bin_width)


class _Tokens:
    """The fields' label and help-text token sets, in English and in each of `languages` they are translated into."""

    def __init__(self, fields: Sequence[Field], languages: Sequence[str]) -> None:
        self.label = [set(word_tokens(f.label)) for f in fields]
        self.help = [set(word_tokens(f.help)) for f in fields]
        self.translated = [
            {
                lang: tuple(set(word_tokens(text)) for text in f.translations[lang])
                for lang in languages
                if lang in f.translations
            }
            for f in fields
        ]

    def overlap(self, i: int, j: int) -> float:
        """Jaccard overlap of field i's English label with field j's English help text."""
        return set_jaccard(self.label[i], self.help[j])

    def preference(self, i: int, j: int) -> tuple[int, int]:
        """How well field j suits as field i's donor beyond English: the number of i's languages j is translated
        into, and of those the number where j's help text shares a word with i's label exactly when i's own
        help text does."""
        mine, theirs = self.translated[i], self.translated[j]
        common = mine.keys() & theirs.keys()
        alike = sum(bool(mine[lang][0] & theirs[lang][1]) == bool(mine[lang][0] & mine[lang][1]) for lang in common)
        return len(common), alike


def field_pairs(
    fields: Sequence[Field], rng: np.random.Generator, bin_width: float = 0.1, languages: Sequence[str] = ()
) -> list[tuple[Field, Field]]:
    """(field, donor) couples: the donor's help text is the field's matched negative.

    The donor is another field of the same application from a different source file whose help text falls in
    the same overlap bin with the field's label and the same length bucket as the field's own help text, and
    whose label is not a near-duplicate. Among those: the ones best suited in `languages` (translated into most
    of the field's languages, so that the couple reaches as many test sets as it can; then sharing a word with
    the label in most of them exactly when the true help text does, so that overlap stays uninformative in the
    translations too; no preference when `languages` is empty), then the help text used least often so far,
    ties at random. Fields without a donor are dropped. If no donor of the same application exists, another
    application's is used. Fields are visited in a random order.
    """
    tokens = _Tokens(fields, languages)
    keys = [near_duplicate_key(f.label) for f in fields]
    buckets = [_length_bucket(f.help) for f in fields]
    uses: Counter = Counter()
    couples = []
    for index in rng.permutation(len(fields)):
        f, target = fields[index], overlap_bin(tokens.overlap(index, index), bin_width)
        for same_app in (True, False):
            donors = [
                j
                for j, d in enumerate(fields)
                if (d.app == f.app) == same_app
                and d.source != f.source
                and keys[j] != keys[index]
                and buckets[j] == buckets[index]
                and overlap_bin(tokens.overlap(index, j), bin_width) == target
            ]
            if donors:
                break
        if donors:
            if languages:
                best = max(tokens.preference(index, j) for j in donors)
                donors = [j for j in donors if tokens.preference(index, j) == best]
            fewest = min(uses[j] for j in donors)
            donors = [j for j in donors if uses[j] == fewest]
            chosen = donors[int(rng.integers(len(donors)))]
            uses[chosen] += 1
            couples.append((f, fields[chosen]))
    return couples


def label_groups(fields: Sequence[Field], rng: np.random.Generator) -> list[list[Field]]:
    """Fields grouped by near-duplicate label, the groups in a random order."""
    groups: dict[str, list[Field]] = {}
    for f in fields:
        groups.setdefault(near_duplicate_key(f.label), []).append(f)
    keys = sorted(groups)
    return [groups[keys[i]] for i in rng.permutation(len(keys))]


def translated_into(f: Field, languages: Sequence[str]) -> bool:
    return all(lang == "en" or lang in f.translations for lang in languages)


def select_test_pool(
    groups: Sequence[list[Field]], targets: Sequence[str], languages: Sequence[str]
) -> tuple[list[Field], list[list[Field]], int]:
    """(test-pool fields, the other groups in order, fields dropped from test groups for having no translation)."""
    pool, rest, dropped = [], [], 0
    for group in groups:
        if any(translated_into(f, targets) for f in group):
            kept = [f for f in group if any(lang in f.translations for lang in languages if lang != "en")]
            pool += kept
            dropped += len(group) - len(kept)
        else:
            rest.append(group)
    return pool, rest, dropped


def dev_and_train(
    groups: Sequence[list[Field]], n_dev: int, seed: int, bin_width: float, max_dev_share: float = 0.25
) -> tuple[list[Field], list[tuple[Field, Field]], list[Field]]:
    """(dev fields, dev couples, train fields): dev takes the first groups until their couples give `n_dev`
    pairs or dev holds `max_dev_share` of the fields; train takes the rest."""
    cap = max_dev_share * sum(len(group) for group in groups)
    size, step = min(n_dev // 2, cap), max(10, n_dev // 40)
    while True:
        dev, taken = [], 0
        while taken < len(groups) and (not dev or len(dev) < size):
            dev += groups[taken]
            taken += 1
        couples = field_pairs(dev, stream(seed, DEV), bin_width)
        if 2 * len(couples) >= n_dev or len(dev) >= cap or taken == len(groups):
            return dev, couples, [f for group in groups[taken:] for f in group]
        size = min(size + step, cap)


def pair_rows(couples: Sequence[tuple[Field, Field]], count: int, rng: np.random.Generator):
    """(field, help donor, label) of the positive and negative pair of the first `count` // 2 couples, shuffled."""
    couples = couples[: count // 2]
    rows = [(f, f, 1) for f, _ in couples] + [(f, donor, 0) for f, donor in couples]
    return [rows[i] for i in rng.permutation(len(rows))]


class PoolRow(NamedTuple):
    """One English test row: its couple's field and donor, the class id, the row id and the couple's index."""

    field: Field
    donor: Field
    label: int
    id: str
    couple: int

    @property
    def help_field(self) -> Field:
        """The field whose help text the row shows: its own (help_text_of) or the donor's (unrelated)."""
        return self.field if self.label == 1 else self.donor


def english_test_rows(couples: Sequence[tuple[Field, Field]], rng: np.random.Generator) -> list[PoolRow]:
    """Every test couple's positive and negative row in a random order; couple k's rows have ids 2k and 2k + 1."""
    rows = []
    for k, (f, donor) in enumerate(couples):
        rows += [PoolRow(f, donor, 1, f"{2 * k:05d}", k), PoolRow(f, donor, 0, f"{2 * k + 1:05d}", k)]
    return [rows[i] for i in rng.permutation(len(rows))]


def language_test_rows(rows: Sequence[PoolRow], lang: str, n_test: int) -> list[PoolRow]:
    """The rows of the first `n_test` // 2 couples (in couple order) whose field and donor are translated into
    `lang` (all of them for English), in the order of `rows`: a smaller cap keeps every language parallel."""
    return [
        row
        for row in rows
        if row.couple < n_test // 2
        and (lang == "en" or (lang in row.field.translations and lang in row.donor.translations))
    ]
