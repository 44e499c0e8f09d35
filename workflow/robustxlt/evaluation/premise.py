"""The paper's premise, measured: a target-language input is its English translation plus a small perturbation,
E_tgt = E_src + δ. For each parallel test row, how far the target row's tokens are from the English row's, at the
two points where the methods add δ (input word embeddings; last hidden states), in the units of ε and σ (the mean
token norm there); and whether a classifier predicts the same label for a row and its translation (cross-lingual
consistency, f(E_tgt) = f(E_src)).

- **Token shift.** Each target token is matched to its nearest token of the English row (greedy matching, as
  BERTScore matches tokens; Euclidean distance). Special tokens and padding take no part.
- **Sentence shift.** The distance between the two rows' mean-pooled token vectors.
- **Where.** `PremiseMeasurement` takes each standard-setting test set's per-row vectors (the last hidden states
  from the evaluation's own forward passes; the word embeddings by lookup) and keeps only English's: each other
  language is measured against English as it comes and then dropped. Shifts there are absolute; the analysis
  divides them by the pretrained encoder's units (robustxlt.analysis.aggregate).
- **Parallel rows.** The rows of the English and the target test set with the same row id (or position when the
  files carry no ids), neither a placeholder (e.g. `NS`), with the same label: as the generalized setting pairs
  them (robustxlt.data.generalized).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from robustxlt.data.canonical import Pair, is_placeholder
from robustxlt.evaluation.outcomes import encode_outcomes

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
SOURCE = "en"  # the language every other is measured against


def parallel_rows(english: Sequence[Pair], target: Sequence[Pair]) -> list[tuple[int, int]]:
    """(English row index, target row index) of the rows that are translations of each other."""
    with_ids = all(p.id is not None for p in english) and all(p.id is not None for p in target)
    key = (lambda i, p: p.id) if with_ids else (lambda i, p: str(i))
    where = {key(i, p): i for i, p in enumerate(target)}
    rows = []
    for i, source in enumerate(english):
        j = where.get(key(i, source))
        if j is None:
            continue
        other = target[j]
        placeholder = any(
            is_placeholder(s) for s in (source.sentence1, source.sentence2, other.sentence1, other.sentence2)
        )
        if not placeholder and other.label == source.label:
            rows.append((i, j))
    return rows


def nearest_token_distances(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """For each row of `target` ([n_t, H] token vectors), the distance to the nearest row of `source` ([n_s, H])."""
    target, source = np.asarray(target, dtype=np.float64), np.asarray(source, dtype=np.float64)
    squared = (target**2).sum(1)[:, None] - 2 * target @ source.T + (source**2).sum(1)[None, :]
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))


def sentence_distance(target: np.ndarray, source: np.ndarray) -> float:
    """The distance between the mean-pooled token vectors of two rows."""
    return float(np.linalg.norm(np.mean(target, axis=0) - np.mean(source, axis=0)))


def shift(targets: Sequence[np.ndarray], sources: Sequence[np.ndarray], unit: float) -> dict:
    """The shift of parallel rows (target row k against source row k, token vectors each) in units of `unit`:
    quantiles of the per-token nearest distances and of the per-row sentence distances, and their counts."""
    if not targets:
        return {"rows": 0, "tokens": 0}
    tokens = np.concatenate([nearest_token_distances(t, s) for t, s in zip(targets, sources, strict=True)]) / unit
    sentences = np.array([sentence_distance(t, s) for t, s in zip(targets, sources, strict=True)]) / unit
    summary: dict = {"rows": len(targets), "tokens": int(tokens.size)}
    for q in QUANTILES:
        summary[f"token_q{round(100 * q):02d}"] = float(np.quantile(tokens, q))
        summary[f"sentence_q{round(100 * q):02d}"] = float(np.quantile(sentences, q))
    return summary


def consistent(target_predictions: np.ndarray, english_predictions: np.ndarray) -> np.ndarray:
    """Per parallel row, whether the prediction on the target row equals the prediction on the English row."""
    return np.asarray(target_predictions) == np.asarray(english_predictions)


POINTS = ("embeddings", "hidden")


@dataclass(frozen=True)
class RowVectors:
    """One test set's rows: per row the ids of its real tokens (neither padding nor special), its last hidden
    states there ([tokens, H]), and the classifier's predictions (None for an encoder without a head)."""

    pairs: Sequence[Pair]
    token_ids: list[np.ndarray]
    hidden: list[np.ndarray]
    predictions: np.ndarray | None = None


def real_token_masks(input_ids: Sequence[Sequence[int]], special_ids: Collection[int]) -> list[np.ndarray]:
    """Per row, which of its tokens are real, i.e. not special (the rows are unpadded)."""
    special = np.array(sorted(special_ids), dtype=np.int64)
    return [~np.isin(np.asarray(ids, dtype=np.int64), special) for ids in input_ids]


def real_token_ids(input_ids: Sequence[Sequence[int]], special_ids: Collection[int]) -> list[np.ndarray]:
    """Per row, its token ids without the special ones (the rows are unpadded)."""
    masks = real_token_masks(input_ids, special_ids)
    return [np.asarray(ids, dtype=np.int64)[mask] for ids, mask in zip(input_ids, masks, strict=True)]


class PremiseMeasurement:
    """The shift of every language's parallel rows from English's, at the word embeddings (`embed`: real-token ids
    to vectors) and the last hidden states, in absolute units, and cross-lingual consistency when the rows carry
    predictions. English must come first; only its vectors are kept."""

    def __init__(self, embed: Callable[[np.ndarray], np.ndarray], source: str = SOURCE):
        self.embed, self.source = embed, source
        self.english: RowVectors | None = None
        self.norms: dict = {}
        self.languages: dict[str, dict] = {}

    def add(self, lang: str, rows: RowVectors) -> None:
        if lang == self.source:
            self.english = rows
            tokens = [ids for ids in rows.token_ids if len(ids)]
            self.norms = {
                "tokens": int(sum(map(len, tokens))),
                "embeddings": _mean_norm([self.embed(ids) for ids in tokens]),
                "hidden": _mean_norm([h for h in rows.hidden if len(h)]),
            }
            return
        if self.english is None:
            raise ValueError(f"the {self.source} test set must be measured before {lang}'s")
        english = self.english
        pairs = [
            (i, j)
            for i, j in parallel_rows(english.pairs, rows.pairs)
            if len(english.token_ids[i]) and len(rows.token_ids[j])
        ]
        result: dict = {"rows": len(pairs)}
        result["embeddings"] = shift(
            [self.embed(rows.token_ids[j]) for _, j in pairs], [self.embed(english.token_ids[i]) for i, _ in pairs], 1.0
        )
        result["hidden"] = shift([rows.hidden[j] for _, j in pairs], [english.hidden[i] for i, _ in pairs], 1.0)
        if rows.predictions is not None and english.predictions is not None:
            same = consistent(rows.predictions[[j for _, j in pairs]], english.predictions[[i for i, _ in pairs]])
            result["consistency"] = float(same.mean()) if len(same) else float("nan")
            result["consistency_outcomes"] = encode_outcomes(same)
        self.languages[lang] = result

    def summary(self) -> dict:
        """The checkpoint's mean token norm over the English test tokens at both points, and per language its
        rows, shift quantiles at both points (absolute) and consistency."""
        return {"source": self.source, "mean_token_norm": self.norms, "languages": self.languages}


def _mean_norm(vectors: list[np.ndarray]) -> float:
    if not vectors:
        return float("nan")
    return float(np.concatenate([np.linalg.norm(v.astype(np.float64), axis=1) for v in vectors]).mean())
