"""The end-of-run summary: the standard tables' numbers, a verdict per method, the runs to distrust, and where the
outputs are; short enough to read at the end of a console."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from robustxlt.analysis.summary import REPORT_COMMAND, print_summary, write_summary
from robustxlt.analysis.tables.registry import write_tables
from robustxlt.analysis.tables.results import load_results
from test_tables import KINDS, PAWSX, write_synthetic


def _standard_table(tmp_path, seeds=(1, 2, 3)):
    write_synthetic(tmp_path, "pawsx", PAWSX, list(KINDS), list(seeds), pair_languages=("en", "de", "ja"))
    results = load_results(
        tmp_path / "metrics.csv", tmp_path / "distances.csv", "pawsx", "m", list(KINDS), KINDS, PAWSX, "custom",
        n_boot=300,
    )  # fmt: skip
    write_tables(results, tmp_path / "tables")
    return tmp_path / "tables" / "pawsx_m_standard.csv", results


def test_the_summary_carries_the_standard_tables_numbers_and_says_where_the_rest_is(tmp_path):
    table, results = _standard_table(tmp_path)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert text == (tmp_path / "summary.md").read_text()
    assert len(text.splitlines()) <= 35
    assert "## pawsx / m" in text and REPORT_COMMAND in text and "metrics.csv" in text
    numbers = pd.read_csv(table)
    generalized = pd.read_csv(table.with_name("pawsx_m_generalized.csv")).set_index("method")
    gap = generalized.loc["baseline", "generalized_minus_standard_pp"]
    for method in KINDS:
        (line,) = [line for line in text.splitlines() if line.startswith(f"| {method} |")]
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        row = numbers[(numbers.row == method) & (numbers.row_type == "ours")].iloc[0]
        assert cells[1] == f"{row.en_pct:.1f}"
        if method == "baseline":
            assert cells[3] == "(reference)" and cells[4] == f"gap {gap:+.1f}"
            continue
        delta = results.improvement(method, "avg", "avg")
        assert cells[2].startswith(f"{100 * delta.improvement:+.1f} [")
        verdict = "better" if delta.ci_low > 0 else "worse" if delta.ci_high < 0 else "no difference shown"
        assert cells[3] == verdict
        general = generalized.loc[method]
        assert cells[4] == (
            f"{general.generalized_improvement_pp:+.1f} [{general.generalized_ci_low_pp:+.1f}, "
            f"{general.generalized_ci_high_pp:+.1f}]"
        )
        assert cells[5] == (f"{100 * general.generalized_improvement_pp / -gap:+.0f}%" if gap < 0 else "–")
    claims = [line for line in text.splitlines() if line.startswith("- Claim")]
    assert [claim.split(",")[0] for claim in claims] == ["- Claim 1", "- Claim 2", "- Claim 3"]
    assert f"the baseline loses {-gap:.1f} points there" in claims[2]
    # No method was swept here, so no strength is in parentheses, and the summary does not say there is one.
    assert "(" not in "".join(line.split("|")[1] for line in text.splitlines() if line.startswith("| "))
    assert "in parentheses" not in text


def test_a_swept_methods_chosen_strength_is_named(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table, dtype={"strength": str}, keep_default_na=False)
    numbers.loc[numbers.row == "adv", "strength"] = "epsilon=0.03"
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert "| adv (epsilon=0.03) |" in text and "Strengths in parentheses were chosen on English dev" in text


def test_collapsed_runs_are_flagged_by_language(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table)
    numbers.loc[numbers.row == "adv", ["de_collapsed", "ja_collapsed"]] = True
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    assert "† adv: predicted one class for every example in de, ja" in text


def test_the_summary_is_printed_only_when_current(tmp_path, capsys):
    summary, metrics = tmp_path / "summary.md", tmp_path / "metrics.csv"
    metrics.write_text("x\n")
    summary.write_text("# the answer\n")
    print_summary(summary, metrics)
    assert "# the answer" in capsys.readouterr().err
    later = time.time() + 5
    os.utime(metrics, (later, later))  # metrics newer than the summary: a stale answer is not shown
    print_summary(summary, metrics)
    assert capsys.readouterr().err == ""


def test_runs_cut_short_are_flagged_with_the_advice(tmp_path):
    table, _ = _standard_table(tmp_path)
    numbers = pd.read_csv(table, dtype={"not_converged_seeds": str})
    numbers.loc[numbers.row == "rs-rp", "not_converged_seeds"] = "1 3"
    numbers.to_csv(table, index=False)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "summary.md")
    (flag,) = [line for line in text.splitlines() if line.startswith("- ‡")]
    assert "rs-rp: not converged on seed 1 3" in flag and "raise training.epochs" in flag


def test_the_share_of_the_generalized_gap_and_the_distance_verdicts():
    """A method that wins back 3 of the baseline's 10 lost points closes 30% of the gap; one that loses 2 more
    widens it by 20%. A distance relation counts only where its interval excludes 0."""
    from robustxlt.analysis.claims import Distance, Generalized, Interval, claim_lines

    generalized = Generalized(-10.0, {"a": Interval(3.0, 1.0, 5.0), "b": Interval(-2.0, -3.0, -1.0)})
    assert (generalized.closed("a"), generalized.closed("b"), generalized.closed("c")) == ("+30%", "-20%", "–")
    distance = Distance({"a": ("genetic", Interval(0.8, 0.2, 0.99)), "b": None}, 7)
    assert distance.cell("a") == "genetic r +0.80 [+0.20, +0.99]" and distance.cell("b") == "no relation shown"
    standard = {"a": Interval(1.0, 0.5, 1.5), "b": Interval(0.1, -0.4, 0.6)}
    one, two, three = claim_lines(standard, generalized, distance)
    assert one.endswith("better: a; no difference shown: b")
    assert two.endswith("(7 languages: only |r| ≥ 0.89 detectable): larger farther from en: a; no relation shown: b")
    assert three.endswith("(the baseline loses 10.0 points there): better: a; worse: b")


def test_the_three_answers_on_results_with_known_effects(tmp_path):
    """Constructed outcomes: `generalized` wins 6 of every 100 pairs only when the two sentences are in different
    languages, `distant` wins a share of rows that grows with the language's distance from English (standard setting
    only), `neither` is the baseline; metrics → tables → summary give each the known verdicts."""
    from test_tables import DISTANCE_TYPES, _row

    rng = np.random.default_rng(0)
    distance = dict(zip(PAWSX, [0.0, 0.3, 0.35, 0.4, 0.75, 0.8, 0.9], strict=True))
    sets = [(lang, lang) for lang in PAWSX] + [(a, b) for a in ("en", "de", "ja") for b in ("en", "de", "ja") if a != b]
    rows = []
    for seed in (1, 2):
        for lang1, lang2 in sets:
            correct = rng.random(2000) < 0.7
            wins = {
                "generalized": np.arange(2000) % 100 < (6 if lang1 != lang2 else 0),
                "distant": np.arange(2000) % 100 < (round(10 * distance[lang1]) if lang1 == lang2 else 0),
                "neither": np.zeros(2000, dtype=bool),
            }
            rows.append(_row("pawsx", "m", "baseline", seed, lang1, lang2, correct))
            rows += [_row("pawsx", "m", m, seed, lang1, lang2, correct | (won & ~correct)) for m, won in wins.items()]
    pd.DataFrame(rows).to_csv(tmp_path / "metrics.csv", index=False)
    pd.DataFrame(
        [
            dict(lang=lang, iso639_3=lang + "x", distance_type=kind, distance=d, source="constructed", metric="angular")
            for lang, d in distance.items()
            for kind in DISTANCE_TYPES
        ]
    ).to_csv(tmp_path / "distances.csv", index=False)
    kinds = {"baseline": "baseline", "generalized": "adversarial", "distant": "random_perturbation"}
    kinds["neither"] = "synonym_augmentation"
    results = load_results(
        tmp_path / "metrics.csv", tmp_path / "distances.csv", "pawsx", "m", list(kinds), kinds, PAWSX, "custom",
        n_boot=500,
    )  # fmt: skip
    write_tables(results, tmp_path / "tables")
    text = write_summary({("pawsx", "m"): tmp_path / "tables" / "pawsx_m_standard.csv"}, "custom", tmp_path / "s.md")
    one, two, three = [line for line in text.splitlines() if line.startswith("- Claim")]
    assert one.endswith("better: distant; no difference shown: generalized, neither"), one
    assert two.endswith("larger farther from en: distant; no relation shown: generalized, neither"), two
    assert three.endswith("better: generalized; no difference shown: distant, neither"), three


def test_strengths_chosen_on_another_tasks_dev_are_named(tmp_path):
    """A file with only the user's task takes the default's fixed strengths: the summary says whose dev chose them."""
    table, _ = _standard_table(tmp_path)
    text = write_summary({("pawsx", "m"): table}, "custom", tmp_path / "s.md", strengths_chosen_on=["sameapp"])
    assert "chosen beforehand on sameapp's English dev, not on pawsx's" in text
    assert "chosen beforehand" not in write_summary({("pawsx", "m"): table}, "custom", tmp_path / "t.md")
