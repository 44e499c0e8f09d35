"""The injection points: both give the model's own loss when unperturbed, and an ascent at the hidden states
raises the loss like one at the embeddings."""

import pytest
import torch
from robustxlt.models.frozen_layers import classification_head
from robustxlt.models.perturbation import ascent_step, project
from robustxlt.training.injection import perturbable_batch


def tiny_classifier(model_type: str, seed: int = 0):
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        XLMRobertaConfig,
        XLMRobertaForSequenceClassification,
    )

    torch.manual_seed(seed)
    shape = dict(
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=3,
    )
    if model_type == "bert":
        return BertForSequenceClassification(BertConfig(max_position_embeddings=16, **shape)).eval()
    config = XLMRobertaConfig(max_position_embeddings=20, pad_token_id=1, **shape)
    return XLMRobertaForSequenceClassification(config).eval()


def tiny_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, 40, (4, 9), generator=generator)
    attention_mask = torch.ones(4, 9, dtype=torch.long)
    attention_mask[1, 6:] = 0
    attention_mask[3, 4:] = 0
    input_ids = torch.where(attention_mask.bool(), input_ids, torch.ones_like(input_ids))
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": torch.tensor([0, 1, 2, 1])}


@pytest.mark.parametrize("model_type", ["bert", "xlm-roberta"])
@pytest.mark.parametrize("injection", ["embeddings", "hidden"])
def test_the_unperturbed_loss_is_the_models_own(model_type, injection):
    model, batch = tiny_classifier(model_type), tiny_batch()
    view = perturbable_batch(model, batch, torch.device("cpu"), injection)
    expected = model(**batch).loss
    assert torch.equal(view.loss_of(None), expected)
    torch.testing.assert_close(view.loss_of(view.embed()), expected, rtol=0, atol=1e-6)
    assert view.mask is batch["attention_mask"]


@pytest.mark.parametrize("model_type", ["bert", "xlm-roberta"])
def test_an_ascent_step_at_the_hidden_states_increases_the_loss(model_type):
    for seed in range(3):
        model, batch = tiny_classifier(model_type, seed), tiny_batch(seed)
        view = perturbable_batch(model, batch, torch.device("cpu"), "hidden")
        hidden, mask, loss_of = view.embed().detach(), view.mask, view.loss_of
        delta = torch.zeros_like(hidden, requires_grad=True)
        loss = loss_of(hidden + delta)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            stepped = project(ascent_step(delta, grad, mask, "l2", 0.05), mask, "l2", 0.1)
            assert loss_of(hidden + stepped).item() > loss.item()
            assert torch.all(stepped[mask == 0] == 0)


def test_other_architectures_are_refused_with_the_fix():
    model = tiny_classifier("bert")
    model.config.model_type = "distilbert"
    with pytest.raises(ValueError, match="injection to 'embeddings'"):
        classification_head(model)
