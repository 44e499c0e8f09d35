import pandas as pd
from robustxlt.aggregate import collect_metrics
from robustxlt.tables import write_results_table


def test_table_has_languages_as_columns_mean_std_over_seeds_and_a_caption(tmp_path):
    rows = []
    for method, base in (("baseline", 0.70), ("adv", 0.80)):
        for seed, shift in ((1, 0.0), (2, 0.02)):
            for lang, delta in (("en", 0.1), ("de", 0.0)):
                rows.append(
                    dict(
                        task="t",
                        model="m",
                        method=method,
                        seed=seed,
                        lang1=lang,
                        lang2=lang,
                        accuracy=base + delta + shift,
                        n=100,
                        model_description="tiny model",
                        data_description="tiny data",
                    )
                )
    rows.append(
        dict(
            task="t",
            model="lexical_overlap",
            method="lexical_overlap",
            seed=0,
            lang1="en",
            lang2="en",
            accuracy=0.5,
            n=100,
            model_description="-",
            data_description="tiny data",
        )
    )
    metrics = tmp_path / "metrics.csv"
    pd.DataFrame(rows).to_csv(metrics, index=False)
    text = write_results_table(metrics, "t", "m", ["en", "de"], ["baseline", "adv"], "embedded", tmp_path / "t.md")
    lines = text.splitlines()
    assert "| method | en | de | avg | seeds |" in lines
    assert "| baseline | 81.0 ± 1.4 | 71.0 ± 1.4 | 76.0 ± 1.4 | 2 |" in lines
    assert "| adv | 91.0 ± 1.4 | 81.0 ± 1.4 | 86.0 ± 1.4 | 2 |" in lines
    assert "| lexical overlap (no model) | 50.0 |  |  | – |" in lines
    assert "EMBEDDED PROXY" in text and "tiny model" in text and "tiny data" in text


def test_collect_metrics_is_tidy_and_sorted(tmp_path):
    import json

    files = []
    for lang in ("de", "en"):
        path = tmp_path / f"{lang}.json"
        path.write_text(
            json.dumps(
                dict(
                    task="t",
                    model="m",
                    method="b",
                    seed=1,
                    lang1=lang,
                    lang2=lang,
                    accuracy=0.5,
                    n=10,
                    model_description="x",
                    data_description="y",
                    test_file="ignored",
                )
            )
        )
        files.append(path)
    metrics = collect_metrics(files[::-1], [], tmp_path / "metrics.csv")
    assert list(metrics.lang1) == ["de", "en"]
    assert "test_file" not in pd.read_csv(tmp_path / "metrics.csv").columns
