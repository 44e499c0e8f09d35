"""Tiny stand-ins for the paper's setup (presets/paper-tiny.yaml), built offline in seconds: randomly initialised
BERT and XLM-R sequence classifiers of the real classes with tiny configs, and PAWS-X- and XNLI-shaped data with
the real PAWS-X test files' quirks. They run the paper's code paths (both architectures, both tasks, every method
and injection point, the generalized grid) end to end on a CPU; their numbers mean nothing. The preparation rules
write them for the sources `tiny` (tasks) and `tiny:bert` / `tiny:xlm-roberta` (models); to have them as local
directories instead:

    python -m robustxlt.models.tiny DIR     # writes DIR/models/{bert,xlm-roberta} and DIR/data/{pawsx,xnli}
"""

from __future__ import annotations

import sys
from pathlib import Path

from robustxlt.data.tiny import TOPICS, write_task

MAX_POSITIONS = 64
# The stand-ins' shape: 2 layers, 32 wide (about 25,000 weights besides the embeddings).
SHAPE = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
# The tokenizer's words (the topic words and PAWS-X's placeholder) after its four special tokens.
WORDS = sorted({w for topic in TOPICS for w in topic} | {"NS"})
VOCABULARY_SIZE = 4 + len(WORDS)


def _tokenizer(template: str, max_length: int = MAX_POSITIONS):
    """A word-level tokenizer over the topic words with the BERT ([CLS] a [SEP] b [SEP], token types) or the
    XLM-R (<s> a </s></s> b </s>) pair template."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    if template == "bert":
        specials = {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]"}
        order = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    else:
        specials = {"pad": "<pad>", "unk": "<unk>", "cls": "<s>", "sep": "</s>"}
        order = ["<s>", "<pad>", "</s>", "<unk>"]  # XLM-R's ids: pad 1
    vocab = {token: i for i, token in enumerate(order + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token=specials["unk"]))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    cls, sep = specials["cls"], specials["sep"]
    ids = [(cls, vocab[cls]), (sep, vocab[sep])]
    if template == "bert":
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1", special_tokens=ids
        )
    else:
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} {sep} $B {sep}", special_tokens=ids
        )
    return (
        PreTrainedTokenizerFast(
            tokenizer_object=tokenizer,
            pad_token=specials["pad"],
            unk_token=specials["unk"],
            cls_token=cls,
            sep_token=sep,
            model_max_length=max_length,
            model_input_names=["input_ids", "token_type_ids", "attention_mask"]
            if template == "bert"
            else ["input_ids", "attention_mask"],
        ),
        vocab,
    )


def write_model(directory: Path, architecture: str, seed: int = 0, max_positions: int = MAX_POSITIONS) -> Path:
    """A randomly initialised 2-layer, 32-wide encoder of the real class (`bert` or `xlm-roberta`) and its
    tokenizer, as a Hugging Face directory; inputs up to `max_positions` tokens."""
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    tokenizer, vocab = _tokenizer("bert" if architecture == "bert" else "xlmr", max_positions)
    size = SHAPE
    if architecture == "bert":
        config = BertConfig(vocab_size=len(vocab), max_position_embeddings=max_positions, pad_token_id=0, **size)
        model_class = BertModel
    elif architecture == "xlm-roberta":
        # XLM-R's position ids start after the padding index: two more rows than the longest input.
        config = XLMRobertaConfig(
            vocab_size=len(vocab), max_position_embeddings=max_positions + 2, pad_token_id=1, bos_token_id=0,
            eos_token_id=2, type_vocab_size=1, **size,
        )  # fmt: skip
        model_class = XLMRobertaModel
    else:
        raise ValueError(f"unknown architecture {architecture!r}: bert or xlm-roberta")
    torch.manual_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    model_class(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_tiny_setup(directory: Path) -> Path:
    """DIR/models/{bert,xlm-roberta} and DIR/data/{pawsx,xnli}: what presets/paper-tiny.yaml reads."""
    directory = Path(directory)
    for architecture in ("bert", "xlm-roberta"):
        write_model(directory / "models" / architecture, architecture)
    for task_name in ("pawsx", "xnli"):
        write_task(directory / "data" / task_name, task_name)
    return directory


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m robustxlt.models.tiny DIR")
    print(write_tiny_setup(Path(sys.argv[1])))
