"""The lexical-overlap reference: how far word overlap alone gets on a task, with no model at all.

A task whose labels could be read off string overlap would say nothing about cross-lingual transfer, so
this number sits beside every model's accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from robustxlt.data.canonical import Pair, read_manifest, read_pairs
from robustxlt.data.embedded_fields import jaccard

REFERENCE_MODEL = "lexical_overlap"


def overlap(pair: Pair) -> float:
    """Jaccard similarity of the two sentences' word sets (characters in scripts written without spaces)."""
    return jaccard(pair.sentence1, pair.sentence2)


class OverlapClassifier:
    """Bins the overlap score at quantiles of the training data and predicts each bin's majority label."""

    def __init__(self, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def fit(self, pairs: list[Pair]) -> OverlapClassifier:
        scores = np.array([overlap(p) for p in pairs])
        labels = np.array([p.label for p in pairs])
        self.edges = np.unique(np.quantile(scores, np.linspace(0, 1, self.n_bins + 1)[1:-1]))
        bins = np.searchsorted(self.edges, scores, side="right")
        majority = np.bincount(labels).argmax()
        self.bin_labels = np.array(
            [
                np.bincount(labels[bins == b]).argmax() if np.any(bins == b) else majority
                for b in range(len(self.edges) + 1)
            ]
        )
        return self

    def predict(self, pairs: list[Pair]) -> np.ndarray:
        scores = np.array([overlap(p) for p in pairs])
        return self.bin_labels[np.searchsorted(self.edges, scores, side="right")]


def lexical_overlap_metrics(data_dir: Path, task_name: str, languages: list[str], out_file: Path) -> pd.DataFrame:
    """Fit on English train, score every language's test set; rows in the layout of metrics.csv."""
    manifest = read_manifest(Path(data_dir) / "manifest.json")
    classifier = OverlapClassifier().fit(read_pairs(Path(data_dir) / "train-en.tsv"))
    rows = []
    for lang in languages:
        test = read_pairs(Path(data_dir) / f"test-{lang}.tsv")
        predictions = classifier.predict(test)
        rows.append(
            {
                "task": task_name,
                "model": REFERENCE_MODEL,
                "method": REFERENCE_MODEL,
                "seed": 0,
                "lang1": lang,
                "lang2": lang,
                "accuracy": float(np.mean(predictions == np.array([p.label for p in test]))),
                "n": len(test),
                "model_description": "no model: word-overlap bins fitted on English train",
                "data_description": manifest["description"],
            }
        )
    frame = pd.DataFrame(rows)
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_file, index=False)
    return frame
