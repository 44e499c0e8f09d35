import importlib.metadata
import logging
import math

import numpy as np
import pandas as pd
import pytest
from robustxlt.analysis.distances import (
    DEFAULT_ISO639_3,
    DISTANCE_COLUMNS,
    DISTANCE_TYPES,
    METRIC,
    angular_distance,
    language_distances,
    write_distances,
)

LANGUAGES = "en de es fr ja ko zh ar bg el hi ru sw th tr".split()  # the 15 XNLI languages


@pytest.fixture(scope="module")
def distances() -> pd.DataFrame:
    return language_distances(LANGUAGES)


def lookup(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index(["lang", "distance_type"]).distance


def lang2vec_vectors(name: str) -> tuple[dict[str, int], np.ndarray]:
    path = importlib.metadata.distribution("lang2vec").locate_file(f"lang2vec/data/{name}")
    with np.load(str(path)) as z:
        return {code: i for i, code in enumerate(z["langs"].tolist())}, z["data"][:, :, 0].astype(np.float64)


def test_one_row_per_language_and_distance_type_with_exactly_the_documented_columns(distances):
    assert DISTANCE_COLUMNS == ["lang", "iso639_3", "distance_type", "distance", "source", "metric"]
    assert list(distances.columns) == DISTANCE_COLUMNS
    assert len(distances) == 6 * len(LANGUAGES)
    assert set(DISTANCE_TYPES) == {"syntactic", "geographic", "genetic", "phonological", "inventory", "featural"}
    assert not distances.duplicated(["lang", "distance_type"]).any()
    assert list(distances.lang.unique()) == LANGUAGES
    assert all(list(group.distance_type) == list(DISTANCE_TYPES) for _, group in distances.groupby("lang"))


def test_english_is_at_distance_zero_and_always_included(distances):
    assert (distances[distances.lang == "en"].distance == 0.0).all()
    others = distances[distances.lang != "en"]
    assert (others.distance > 0).all()
    without_english = language_distances(["de"])
    assert list(without_english.lang.unique()) == ["en", "de"]
    assert (without_english[without_english.lang == "en"].distance == 0.0).all()


def test_distances_lie_in_the_unit_interval_with_one_source_and_the_metric_per_type(distances):
    assert distances.distance.between(0.0, 1.0).all()
    assert (distances.metric == METRIC).all() and "angular" in METRIC
    sources = distances.groupby("distance_type").source.nunique()
    assert (sources == 1).all()  # one source per type, so a type's distances are comparable across languages
    source = distances.drop_duplicates("distance_type").set_index("distance_type").source
    assert source["genetic"].startswith("urielplus 1.3.2 new_distance('genetic')")
    assert source["geographic"].startswith("urielplus 1.3.2 new_distance('geographic')")
    assert source["syntactic"].startswith("lang2vec 1.1.2 syntax_knn")
    assert source["featural"].startswith("lang2vec 1.1.2 syntax_knn+phonology_knn+inventory_knn")


def test_macrolanguage_codes_are_explicit_and_overridable(distances):
    codes = distances.drop_duplicates("lang").set_index("lang").iso639_3
    assert (codes["zh"], codes["ar"], codes["sw"]) == ("zho", "ara", "swa")
    assert codes.to_dict() == {lang: DEFAULT_ISO639_3[lang] for lang in LANGUAGES}
    overridden = language_distances(["zh", "ar", "sw"], {"zh": "cmn", "ar": "arb", "sw": "swh"})
    assert overridden.drop_duplicates("lang").set_index("lang").iso639_3.to_dict() == {
        "en": "eng",
        "zh": "cmn",
        "ar": "arb",
        "sw": "swh",
    }
    before, after = lookup(distances), lookup(overridden)
    for lang in ("zh", "ar", "sw"):  # URIEL locates the macrolanguage and its main member at different points
        assert before[lang, "geographic"] != after[lang, "geographic"]


def test_syntactic_distances_match_published_lang2vec_values(distances):
    # Cosine distances between lang2vec 1.1.2 `syntax_knn` vectors from English, as printed by a public notebook
    # (github.com/Mluonium/NLP-Final-Project, 08_lang_sim.ipynb: "Distance between eng and deu: 0.0974580...").
    # Ours are angular: cosine distance = 1 - cos(pi/2 * angular); 4-decimal rounding moves it by < 1e-4.
    published = {"de": 0.09745802, "ru": 0.18824594, "zh": 0.28922753, "pt": 0.15760300, "sv": 0.06658369}
    ours = lookup(language_distances(list(published)))
    for lang, cosine in published.items():
        assert 1 - math.cos(math.pi / 2 * ours[lang, "syntactic"]) == pytest.approx(cosine, abs=1e-4), lang


def test_genetic_and_geographic_distances_are_those_of_the_published_uriel_vectors(distances):
    # urielplus ships the same URIEL family and geography files as lang2vec 1.1.2; lang2vec's README publishes the
    # first geographic features of English and French.
    rows, geo = lang2vec_vectors("geocoord_features.npz")
    assert geo[rows["eng"], :4] == pytest.approx([0.7665, 0.7924, 0.8278, 0.7214], abs=1e-4)
    assert geo[rows["fra"], :4] == pytest.approx([0.7378, 0.7683, 0.7982, 0.6942], abs=1e-4)
    ours = lookup(distances)
    for name, distance_type in (("family_features.npz", "genetic"), ("geocoord_features.npz", "geographic")):
        rows, data = lang2vec_vectors(name)
        for lang in ("de", "fr", "ja", "hi", "sw"):
            expected = angular_distance(data[rows["eng"]], data[rows[DEFAULT_ISO639_3[lang]]])
            assert ours[lang, distance_type] == pytest.approx(expected, abs=2e-4), (lang, distance_type)


def test_distances_agree_with_the_classification_of_the_languages(distances):
    ours = lookup(distances)
    # English is Germanic like German, Indo-European like French and Hindi, unrelated to Japanese or Swahili.
    assert ours["de", "genetic"] < ours["fr", "genetic"] < 1.0
    assert ours["hi", "genetic"] < 1.0
    assert ours["ja", "genetic"] == ours["sw", "genetic"] == 1.0
    assert ours["fr", "geographic"] < ours["ru", "geographic"] < ours["ja", "geographic"]
    assert ours["de", "syntactic"] < ours["ja", "syntactic"]


def test_a_language_with_no_observed_typology_is_computed_from_imputed_features_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="robustxlt.analysis.distances"):
        slovak = lookup(language_distances(["sk"]))
    assert 0.0 < slovak["sk", "syntactic"] < 1.0
    assert "sk (slk): no observed syntactic features in URIEL, kNN-imputed only" in caplog.text


def test_an_unknown_language_names_the_config_key_to_set():
    with pytest.raises(ValueError, match=r"'xx'.*set distances\.iso639_3\.xx in the config"):
        language_distances(["de", "xx"])


def test_a_code_uriel_lacks_names_the_language_the_code_and_the_fix():
    with pytest.raises(
        ValueError, match=r"Language 'zh': ISO 639-3 code 'qqq' is not in URIEL.*distances\.iso639_3\.zh"
    ):
        language_distances(["zh"], {"zh": "qqq"})
    with pytest.raises(ValueError, match=r"Language 'eu': URIEL has no genetic data for ISO 639-3 code 'eus'"):
        language_distances(["eu"], {"eu": "eus"})  # Basque, an isolate, belongs to no family in URIEL


def test_angular_distance_is_zero_for_the_same_direction_and_one_for_orthogonal_vectors():
    u = np.array([1.0, 0.0])
    assert angular_distance(u, 2 * u) == 0.0
    assert angular_distance(u, np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert angular_distance(u, np.array([0.0, 3.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="all-zero"):
        angular_distance(u, np.zeros(2))


def test_the_file_is_deterministic_and_written_atomically(tmp_path, distances):
    first, second = tmp_path / "a" / "distances.csv", tmp_path / "b" / "distances.csv"
    written = write_distances(LANGUAGES, first)
    write_distances(LANGUAGES, second)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["distances.csv"]
    pd.testing.assert_frame_equal(pd.read_csv(first), written)
    pd.testing.assert_frame_equal(written, distances)
