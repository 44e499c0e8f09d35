"""Why does the proxy's baseline sit at loss 0.69 for its first steps? One training variant per invocation.

    python benchmarks/plateau_diagnosis.py --workdir DIR [key=value ...] > result.json

DIR holds the default run's resources/ (models/e5small, data/sameapp). Keys (defaults = the issue-9 starting
point): lr=1e-4 head_lr=<lr> warmup=0 bs=16 steps=150 seed=1 threads=1 bf16=1 freeze=1 (word embeddings)
freeze_layers=0 pooler=random|identity pool=cls|mean clip=1.0. A deliberately small loop (not fine_tune) so
that head learning rates, pooler initialisation and pooling can be varied; prints the training loss every 10
steps, English dev accuracy every 25 and English test accuracy at the best dev step as one JSON line.
Results of the runs quoted in the README are in benchmarks/results/plateau/ (rows there without
`freeze_layers` ran with dropout off: an earlier version of this script left the model in eval mode).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from robustxlt.data.canonical import read_pairs
from robustxlt.models.batching import encode_pairs, iterate_batches, length_grouped_batches, sorted_batches
from robustxlt.models.prediction import accuracy, predict
from robustxlt.training.model_setup import freeze_bottom_layers
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

DEFAULTS = dict(
    lr=1e-4, head_lr=0.0, warmup=0.0, bs=16, steps=150, seed=1, threads=1, bf16=1, freeze=1, freeze_layers=0,
    pooler="random", pool="cls", clip=1.0,
)  # fmt: skip
CPU = torch.device("cpu")


def parse(pairs: list[str]) -> dict:
    cfg = dict(DEFAULTS)
    for pair in pairs:
        key, value = pair.split("=", 1)
        cfg[key] = type(DEFAULTS[key])(value)
    return cfg


def mean_pooled_logits(model, batch):
    """The head on the mean of the last hidden states instead of the first token."""
    hidden = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = model.bert.pooler.activation(model.bert.pooler.dense((hidden * mask).sum(1) / mask.sum(1)))
    return model.classifier(model.dropout(pooled))


def dev_predictions(model, cfg, data):
    if cfg["pool"] == "cls":
        return predict(model, data, 64, 1, precision="bf16" if cfg["bf16"] else "fp32")
    out = np.empty(len(data), dtype=np.int64)
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(cfg["bf16"])):
        for indices, batch in iterate_batches(data, sorted_batches(data.lengths(), 64), 1, CPU):
            out[indices] = mean_pooled_logits(model, batch).argmax(-1).numpy()
    model.train()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("settings", nargs="*", help="key=value")
    args = parser.parse_args()
    cfg = parse(args.settings)
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    data_dir, model_dir = args.workdir / "resources/data/sameapp", args.workdir / "resources/models/e5small"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2, attn_implementation="eager")
    if cfg["pooler"] == "identity":
        with torch.no_grad():
            model.bert.pooler.dense.weight.copy_(torch.eye(model.config.hidden_size))
            model.bert.pooler.dense.bias.zero_()
    if cfg["freeze"]:
        model.get_input_embeddings().weight.requires_grad_(False)
    if cfg["freeze_layers"]:
        freeze_bottom_layers(model, cfg["freeze_layers"], model_dir)
    model.train()
    train, dev, test = (
        encode_pairs(tokenizer, read_pairs(data_dir / f), 64) for f in ("train-en.tsv", "dev-en.tsv", "test-en.tsv")
    )
    head = [p for n, p in model.named_parameters() if p.requires_grad and ("classifier" in n or "pooler" in n)]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not ("classifier" in n or "pooler" in n)]
    groups = [{"params": body, "lr": cfg["lr"]}, {"params": head, "lr": cfg["head_lr"] or cfg["lr"]}]
    optimizer = torch.optim.AdamW(groups, eps=1e-8, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, int(cfg["warmup"] * cfg["steps"]), cfg["steps"])
    rng = np.random.default_rng(cfg["seed"])
    step, losses, devs, grad_norms, best, best_test, running = 0, [], [], [], (-1, 0.0), None, []
    started = time.perf_counter()
    while step < cfg["steps"]:
        for _, batch in iterate_batches(train, length_grouped_batches(train.lengths(), cfg["bs"], 50, rng), 1, CPU):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(cfg["bf16"])):
                logits = mean_pooled_logits(model, batch) if cfg["pool"] == "mean" else model(**batch).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
            loss.backward()
            grad_norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])))
            optimizer.step(), schedule.step(), optimizer.zero_grad()
            step, running = step + 1, running + [loss.item()]
            if step % 10 == 0:
                losses.append(round(float(np.mean(running)), 3))
                running = []
            if step % 25 == 0:
                dev_accuracy = accuracy(dev_predictions(model, cfg, dev), dev.labels)
                devs.append(round(dev_accuracy, 3))
                if dev_accuracy > best[1]:
                    best = (step, dev_accuracy)
                    best_test = accuracy(dev_predictions(model, cfg, test), test.labels)
            if step >= cfg["steps"]:
                break
    result = {
        "cfg": cfg,
        "s_per_step": (time.perf_counter() - started) / cfg["steps"],
        "loss": losses,
        "dev": devs,
        "best": best,
        "test_en_at_best": best_test,
        "grad_norms": [round(float(np.mean(grad_norms[i : i + 10])), 2) for i in range(0, len(grad_norms), 10)],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
