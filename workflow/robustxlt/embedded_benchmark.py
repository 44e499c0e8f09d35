"""The embedded benchmark: an offline, parallel sentence-pair task standing in for PAWS-X.

Each example is two user-interface sentences taken from the gettext catalogues of five
applications (see `catalogues.WHEELS`). The label says whether both sentences come from
software of the same domain (translation platform, event ticketing, web CMS, genealogy).

Why this task:
- The label is a property of the English source message, so it survives translation
  exactly: a human translation of an example keeps its gold label, and the test sets of all
  languages are parallel, row by row, as PAWS-X's are (the generalized setting pairs
  sentence 1 of row i in one language with sentence 2 of row i in another).
- It needs meaning, not surface form: positive and negative pairs are sampled with the
  same distribution of English word overlap (Jaccard), so string overlap carries almost
  no signal, and each domain is equally frequent on both sides of each label.
- Wagtail and Plone are both web CMSs, so they form one domain: "same application" would
  ask a model to tell two CMSs apart from generic UI strings, which is label noise.

Sentences never cross splits: the English messages, not the pairs, are split, after
removing near-duplicates (same words up to case, punctuation and a plural "s") and strings
that occur in more than one application.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from robustxlt.catalogues import WHEELS, WheelSpec, english_text, fetch_wheel, read_catalogues

LABELS: tuple[str, ...] = ("different_domain", "same_domain")
PAWSX_LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "ja", "ko", "zh")

# Application -> domain; an application missing here is its own domain.
DOMAINS: dict[str, str] = {
    "weblate": "translation",
    "pretix": "ticketing",
    "wagtail": "cms",
    "plone": "cms",
    "gramps": "genealogy",
}

# The output of `select_languages` on the pinned wheels with the default thresholds, pinned
# here so that the task registry knows the languages without downloading anything.
LANGUAGES: tuple[str, ...] = PAWSX_LANGUAGES + (
    "cs",
    "he",
    "hr",
    "hu",
    "it",
    "nl",
    "pl",
    "pt",
    "sk",
    "sv",
    "tr",
    "uk",
)

# "sameapp" is the registry id the config already uses; the label is the application's domain
# (Wagtail and Plone, both web CMSs, count as one), hence the label names.
SPEC: dict = {
    "name": "sameapp",
    "languages": list(LANGUAGES),
    "labels": list(LABELS),
    "description": (
        "Embedded offline proxy for PAWS-X: pairs of real software UI sentences with human "
        "translations (gettext catalogues of weblate, pretix, wagtail, plone, gramps from "
        "pinned PyPI wheels); label = both sentences come from software of the same domain "
        "(translation platform, ticketing, web CMS, genealogy). Train/dev in English; test "
        "parallel across languages; word overlap balanced between labels."
    ),
}

# printf/format/template placeholders, markup, entities, URLs, escapes: such strings are dropped
# rather than stripped, because stripping leaves broken grammar that differs across languages.
_MARKUP = re.compile(
    r"%[(\w)]*[-+ #0-9.]*[sdifrxegc%]|\{[^}]*\}|\$\{?\w|<[^>]*>|&#?\w+;|https?://|www\.|"
    r"\[\[|\]\]|`|__|\\|\|"
)
_WORD = re.compile(r"\w+")
# Product names would give the label away in every language, so messages naming one are dropped.
BRAND_NAMES: tuple[str, ...] = (
    "weblate",
    "pretix",
    "wagtail",
    "plone",
    "zope",
    "gramps",
    "gramplet",
)


@dataclass(frozen=True)
class Message:
    """One English UI sentence with its human translations (cleaned, by ISO 639-1 code)."""

    app: str
    domain: str
    msgid: str
    english: str
    translations: Mapping[str, str] = field(compare=False, hash=False)


def clean_text(text: str) -> str:
    """One line, single spaces: the TSV files cannot hold tabs or newlines."""
    return " ".join(text.split())


def is_real_sentence(text: str, min_words: int = 4, max_words: int = 40) -> bool:
    """A natural-language UI sentence: enough words, no placeholders, markup or identifiers."""
    words = text.split()
    if not min_words <= len(words) <= max_words or _MARKUP.search(text):
        return False
    alphabetic = [w for w in words if re.fullmatch(r"[A-Za-z][a-z'’-]*[.,:;!?)]?", w)]
    return len(alphabetic) >= min(min_words, len(words) - 1)


def word_tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def jaccard(a: str, b: str) -> float:
    """Word-set Jaccard overlap of two texts (lowercased `\\w+` tokens)."""
    sa, sb = set(word_tokens(a)), set(word_tokens(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def near_duplicate_key(text: str) -> str:
    """Texts with equal keys differ only in case, punctuation or a plural "s"."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in word_tokens(text))


def usable_messages(
    catalogues_by_app: Mapping[str, Mapping[str, Mapping[str, str]]],
    domains: Mapping[str, str] = DOMAINS,
    min_words: int = 4,
    max_words: int = 40,
    brand_names: Sequence[str] = BRAND_NAMES,
) -> list[Message]:
    """Real English sentences of every application, de-duplicated within and across apps.

    A translation counts only if it is non-empty and differs from the English text (a copy
    of the source is an untranslated string). Messages whose English text or any
    translation names a product in `brand_names` are dropped. Near-duplicate English texts
    are kept once within an application and dropped entirely when they occur in two
    applications.
    """
    candidates: list[Message] = []
    for app in sorted(catalogues_by_app):
        catalogues = catalogues_by_app[app]
        msgids = sorted({m for lang, cat in catalogues.items() if lang != "en" for m in cat})
        for msgid in msgids:
            english = clean_text(english_text(catalogues, msgid))
            if not is_real_sentence(english, min_words, max_words):
                continue
            translations = {}
            for lang, cat in sorted(catalogues.items()):
                text = clean_text(cat.get(msgid, ""))
                if lang != "en" and text and text not in (english, clean_text(msgid)):
                    translations[lang] = text
            texts = " ".join([english, *translations.values()]).lower()
            if any(name in texts for name in brand_names):
                continue
            candidates.append(Message(app, domains.get(app, app), msgid, english, translations))
    apps_of_key: dict[str, set[str]] = {}
    for message in candidates:
        apps_of_key.setdefault(near_duplicate_key(message.english), set()).add(message.app)
    kept: dict[str, Message] = {}
    for message in sorted(candidates, key=lambda m: (m.app, m.english, m.msgid)):
        key = near_duplicate_key(message.english)
        if len(apps_of_key[key]) == 1:
            kept.setdefault(key, message)
    return sorted(kept.values(), key=lambda m: (m.app, m.msgid))


def _by_domain(messages: Iterable[Message]) -> dict[str, list[Message]]:
    grouped: dict[str, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.domain, []).append(message)
    return dict(sorted(grouped.items()))


def _translated_into(message: Message, languages: Iterable[str]) -> bool:
    return all(lang == "en" or lang in message.translations for lang in languages)


def select_languages(
    messages: Sequence[Message],
    required: Sequence[str] = PAWSX_LANGUAGES,
    min_retention: float = 0.5,
    min_test_messages: int = 30,
) -> list[str]:
    """The benchmark languages: `required` plus every language that keeps the test pool large.

    The test pool of a domain is its messages translated into every chosen language. Start
    from the required languages; greedily add the language that keeps the largest share of
    the current pool (ties by code) while every domain keeps at least `min_retention` of
    its required-languages pool and at least `min_test_messages` messages.
    """
    grouped = _by_domain(messages)
    pool = {d: [m for m in ms if _translated_into(m, required)] for d, ms in grouped.items()}
    floor = {d: max(min_test_messages, min_retention * len(ms)) for d, ms in pool.items()}
    if any(len(pool[d]) < floor[d] for d in pool):
        short = {d: len(ms) for d, ms in pool.items() if len(ms) < floor[d]}
        raise ValueError(f"too few messages translated into all of {list(required)}: {short}")
    candidates = sorted({lang for m in messages for lang in m.translations} - set(required))
    chosen: list[str] = []
    while True:
        best: tuple[float, str] | None = None
        for lang in candidates:
            if lang in chosen:
                continue
            kept = {d: [m for m in ms if lang in m.translations] for d, ms in pool.items()}
            if any(len(kept[d]) < floor[d] for d in pool):
                continue
            share = min(len(kept[d]) / len(pool[d]) for d in pool)
            if best is None or share > best[0]:
                best = (share, lang)
        if best is None:
            break
        chosen.append(best[1])
        pool = {d: [m for m in ms if best[1] in m.translations] for d, ms in pool.items()}
    return list(required) + sorted(chosen)


def split_messages(
    messages: Sequence[Message],
    languages: Sequence[str],
    n_dev: int,
    n_test: int,
    rng: np.random.Generator,
    min_test_messages: int = 20,
) -> dict[str, dict[str, list[Message]]]:
    """Disjoint train/dev/test messages per domain; test messages are translated everywhere.

    Each split gets about as many messages per domain as it has sentence slots (two per
    pair, spread over the domains), so a test or dev sentence is reused only when its
    domain is short of translated messages; dev never takes more than a fifth of the rest.
    """
    grouped = _by_domain(messages)
    slots = {
        name: math.ceil(2 * n / len(grouped)) for name, n in (("dev", n_dev), ("test", n_test))
    }
    splits: dict[str, dict[str, list[Message]]] = {"train": {}, "dev": {}, "test": {}}
    for domain, domain_messages in grouped.items():
        shuffled = [domain_messages[i] for i in rng.permutation(len(domain_messages))]
        eligible = [m for m in shuffled if _translated_into(m, languages)]
        test = eligible[: slots["test"]]
        if len(test) < min_test_messages:
            raise ValueError(
                f"domain {domain!r} has {len(test)} messages translated into all of "
                f"{list(languages)}; at least {min_test_messages} are needed"
            )
        in_test = set(test)
        rest = [m for m in shuffled if m not in in_test]
        dev = rest[: min(slots["dev"], len(rest) // 5)]
        splits["test"][domain] = test
        splits["dev"][domain] = dev
        splits["train"][domain] = rest[len(dev) :]
    return splits


class _Deck:
    """Draws messages so that each is used once before any is used again."""

    def __init__(self, messages: Sequence[Message], rng: np.random.Generator) -> None:
        self.messages, self.rng, self.order = list(messages), rng, []

    def draw(self) -> Message:
        if not self.order:
            self.order = list(self.rng.permutation(len(self.messages)))
        return self.messages[self.order.pop()]


def _overlap_bin(a: Message, b: Message, bin_width: float) -> int:
    value = jaccard(a.english, b.english)
    return -1 if value == 0 else int(value / bin_width)  # exact zero overlap is its own bin


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to `total` in proportion to `weights` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts


def sample_pairs(
    by_domain: Mapping[str, Sequence[Message]],
    n_pairs: int,
    rng: np.random.Generator,
    bin_width: float = 0.05,
    pool_factor: int = 4,
) -> list[tuple[Message, Message, int]]:
    """Balanced same/different-domain pairs whose word-overlap distributions match.

    Candidates are drawn with equal numbers per domain (positives) and per domain pair
    (negatives), cycling through each domain's messages; then, in every Jaccard bin, the
    same share of positives and negatives is kept (the smaller of the two candidate
    shares), so a threshold on overlap is close to chance. Pairs are unique.
    """
    domains = sorted(d for d, ms in by_domain.items() if ms)
    sizes = {d: len(ms) for d, ms in by_domain.items()}
    if len(domains) < 2 or any(len(by_domain[d]) < 2 for d in domains):
        raise ValueError(f"need at least two domains with two messages each: {sizes}")
    wanted = {1: n_pairs // 2, 0: n_pairs - n_pairs // 2}
    cells = {1: [(d, d) for d in domains], 0: list(combinations(domains, 2))}
    for attempt in range(6):
        decks = {d: _Deck(by_domain[d], rng) for d in domains}
        candidates: dict[int, dict[frozenset, tuple[Message, Message]]] = {0: {}, 1: {}}
        for label, label_cells in cells.items():
            per_cell = math.ceil(pool_factor * 2**attempt * wanted[label] / len(label_cells))
            for first, second in label_cells:
                for _ in range(per_cell):
                    a, b = decks[first].draw(), decks[second].draw()
                    if a != b:
                        candidates[label].setdefault(frozenset((a, b)), (a, b))
        binned = {
            label: _group_by_bin(list(pairs.values()), bin_width)
            for label, pairs in candidates.items()
        }
        bins = sorted(set(binned[0]) & set(binned[1]))
        available = {label: np.array([len(binned[label][b]) for b in bins]) for label in (0, 1)}
        if not bins:
            continue
        share = np.minimum(available[0] / available[0].sum(), available[1] / available[1].sum())
        targets = {label: _allocate(wanted[label], share) for label in (0, 1)}
        if all((targets[label] <= available[label]).all() for label in (0, 1)):
            break
    else:
        raise ValueError(
            f"cannot sample {n_pairs} overlap-matched pairs from messages per domain {sizes}"
        )
    chosen: list[tuple[Message, Message, int]] = []
    for label in (0, 1):
        for b, count in zip(bins, targets[label]):
            group = binned[label][b]
            for index in sorted(rng.choice(len(group), size=count, replace=False)):
                a, c = group[index]
                chosen.append((a, c, label) if rng.random() < 0.5 else (c, a, label))
    return [chosen[i] for i in rng.permutation(len(chosen))]


def _group_by_bin(
    pairs: list[tuple[Message, Message]], bin_width: float
) -> dict[int, list[tuple[Message, Message]]]:
    groups: dict[int, list[tuple[Message, Message]]] = {}
    for a, b in pairs:
        groups.setdefault(_overlap_bin(a, b, bin_width), []).append((a, b))
    return groups


def build_embedded_benchmark(
    cache_dir: Path,
    seed: int = 0,
    n_train: int = 3000,
    n_dev: int = 400,
    n_test: int = 400,
    languages: Sequence[str] = LANGUAGES,
    wheels: Sequence[WheelSpec] = WHEELS,
    min_words: int = 4,
    max_words: int = 40,
    bin_width: float = 0.05,
    min_test_messages: int = 20,
) -> tuple[dict[tuple[str, str], list[tuple[str, str, int]]], dict]:
    """Build the benchmark from the pinned wheels (downloaded into `cache_dir` if absent).

    Returns {(split, lang): [(sentence1, sentence2, label_id), ...]} with ("train", "en"),
    ("dev", "en") and ("test", lang) for every language, where row i of every test language
    is the human translation of English test row i; and a provenance dict. Writes nothing
    but the wheel cache.
    """
    if languages[0] != "en":
        raise ValueError(f"languages must start with 'en': {list(languages)}")
    rng = np.random.default_rng(seed)
    catalogues_by_app = {
        spec.app: read_catalogues(fetch_wheel(spec, cache_dir), spec.app) for spec in wheels
    }
    messages = usable_messages(catalogues_by_app, DOMAINS, min_words, max_words)
    splits = split_messages(messages, languages, n_dev, n_test, rng, min_test_messages)
    pairs = {
        name: sample_pairs(splits[name], n, rng, bin_width)
        for name, n in (("train", n_train), ("dev", n_dev), ("test", n_test))
    }
    data: dict[tuple[str, str], list[tuple[str, str, int]]] = {
        (name, "en"): [(a.english, b.english, label) for a, b, label in pairs[name]]
        for name in ("train", "dev")
    }
    for lang in languages:
        data[("test", lang)] = [
            (_text(a, lang), _text(b, lang), label) for a, b, label in pairs["test"]
        ]
    provenance = _provenance(
        wheels,
        catalogues_by_app,
        messages,
        splits,
        pairs,
        languages,
        {
            "seed": seed,
            "n_train": n_train,
            "n_dev": n_dev,
            "n_test": n_test,
            "min_words": min_words,
            "max_words": max_words,
            "bin_width": bin_width,
            "min_test_messages": min_test_messages,
        },
    )
    return data, provenance


def _text(message: Message, lang: str) -> str:
    return message.english if lang == "en" else message.translations[lang]


def _provenance(wheels, catalogues_by_app, messages, splits, pairs, languages, parameters) -> dict:
    all_languages = sorted({lang for m in messages for lang in m.translations})
    return {
        "task": SPEC["name"],
        "labels": list(LABELS),
        "languages": list(languages),
        # What `select_languages` picks today; differs from "languages" if the pins go stale.
        "suggested_languages": select_languages(
            messages, required=[lang for lang in PAWSX_LANGUAGES if lang in languages]
        ),
        "wheels": [
            {
                "app": w.app,
                "domain": DOMAINS.get(w.app, w.app),
                "name": w.name,
                "version": w.version,
                "filename": w.filename,
                "sha256": w.sha256,
            }
            for w in wheels
        ],
        "catalogue_languages": {app: sorted(c) for app, c in catalogues_by_app.items()},
        "usable_messages_per_app": dict(Counter(m.app for m in messages)),
        "translated_messages_per_language": {
            lang: dict(Counter(m.app for m in messages if lang in m.translations))
            for lang in all_languages
        },
        "messages_per_split": {
            name: {d: len(ms) for d, ms in by_domain.items()} for name, by_domain in splits.items()
        },
        "pairs_per_split": {
            name: {
                "total": len(rows),
                "labels": {LABELS[k]: v for k, v in sorted(Counter(r[2] for r in rows).items())},
                "domain_pairs": dict(
                    sorted(
                        Counter("+".join(sorted((a.domain, b.domain))) for a, b, _ in rows).items()
                    )
                ),
                "max_sentence_reuse": max(Counter(m for a, b, _ in rows for m in (a, b)).values()),
            }
            for name, rows in pairs.items()
        },
        "parameters": parameters,
    }
