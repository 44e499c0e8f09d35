"""Training methods as objectives over one shared training loop.

Every method computes the loss of a batch and back-propagates it into the parameters' gradients;
the loop does the rest (accumulation, clipping, the optimizer step). In the paper's terms
(docs/paper-choices.md): the baseline is δ = 0; RS-DA is the baseline on synonym-augmented data; RS-RP trains
on the expected loss under random δ; adversarial training (PGD-K) on the loss at the worst δ found
by K projected ascent steps in each token's ε-ball; FreeLB-K accumulates the parameters' gradients
along the ascent path. δ is added to the input word embeddings (before position embeddings and
LayerNorm) or, with `injection: hidden`, to the encoder's last hidden states (robustxlt.training.injection); ε, σ
and step sizes are in units of the mean norm of what δ is added to (token embeddings or hidden states).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Protocol

import torch
import torch.nn.functional as F

from robustxlt.models.perturbation import ascent_step, init_delta, project, sample_noise
from robustxlt.training.injection import PerturbableBatch
from robustxlt.training.kinds import KINDS


@dataclass(frozen=True)
class RunContext:
    """What a method needs beyond the batch, fixed for a run: the unit of ε and σ (the mean norm of what δ is
    added to), the generator of δ's draws, and the weight of one forward pass in an optimizer step."""

    unit: float
    generator: torch.Generator | None = None
    scale: float = 1.0  # 1 / gradient accumulation
    scaler: torch.amp.GradScaler | None = None  # fp16's loss scale (robustxlt.models.runtime.gradient_scaler)

    def backward(self, loss: torch.Tensor) -> float:
        """Back-propagate `loss`, weighted (and loss-scaled in fp16), into the parameters' gradients; return its
        value."""
        weighted = loss * self.scale
        (self.scaler.scale(weighted) if self.scaler else weighted).backward()
        return loss.item()


class Method(Protocol):
    """A training objective: back-propagates one batch's loss into the parameters' gradients."""

    kind: ClassVar[str]
    injection: str

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float: ...

    def absolute(self, unit: float) -> dict: ...

    def passes(self) -> int:
        """Forward and backward passes through the encoder per batch (the cost plan's unit of a step)."""
        ...


@dataclass(frozen=True)
class Baseline:
    """Standard fine-tuning."""

    kind: ClassVar[str] = "baseline"
    injection: ClassVar[str] = "embeddings"  # no δ: the clean loss never looks at the injection point

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float:
        return run.backward(batch.loss_of(None))

    def absolute(self, unit: float) -> dict:
        return {}

    def passes(self) -> int:
        return 1


@dataclass(frozen=True)
class SynonymAugmentation(Baseline):
    """RS-DA: the baseline objective on `copies` synonym-substituted copies of every English training
    pair (made by the augment rule, robustxlt.augmentation.substitution; the originals are not trained on)."""

    kind: ClassVar[str] = "synonym_augmentation"
    copies: int = 10
    # Probability that a word with neighbours is redrawn (1.0: every such word, the paper's script).
    substitution_rate: float = 1.0
    # The project's refinements of the released rule (robustxlt.augmentation.substitution.SubstitutionRule): all
    # three off is the authors' script.
    stop_words: bool = True
    case_fallback: bool = True
    max_neighbours: int | None = 8


@dataclass(frozen=True)
class LinearProbeFineTune(Baseline):
    """LP-FT (Kumar et al., ICLR 2022): the first `probe_steps` optimizer steps update the classification head alone
    on the pretrained encoder (a linear probe; the loop drops the encoder's gradients), then the whole model is
    fine-tuned as the baseline is, so that fine-tuning starts from a head that fits the features instead of
    distorting them."""

    kind: ClassVar[str] = "lp_ft"
    probe_steps: int = 200

    def trains_encoder(self, step: int) -> bool:
        return step >= self.probe_steps


@dataclass(frozen=True)
class RandomPerturbation:
    """RS-RP: the loss under a fresh random δ per step, averaged over `draws` draws."""

    kind: ClassVar[str] = "random_perturbation"
    distribution: str = "gaussian"
    sigma: float = 0.1
    draws: int = 1
    injection: str = "embeddings"

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float:
        total = 0.0
        for _ in range(self.draws):
            embeds = batch.embed()
            noise = sample_noise(embeds.detach(), batch.mask, self.distribution, self.sigma * run.unit, run.generator)
            total += run.backward(batch.loss_of(embeds + noise) / self.draws)
        return total

    def absolute(self, unit: float) -> dict:
        return {"sigma_absolute": self.sigma * unit}

    def passes(self) -> int:
        return self.draws


@dataclass(frozen=True)
class _EpsilonBall:
    """Settings shared by the ascent methods: the per-token ball and the ascent that searches it."""

    norm: str = "l2"
    epsilon: float = 0.5
    step_size: float = 0.25
    steps: int = 3
    random_init: bool = False
    injection: str = "embeddings"

    def absolute(self, unit: float) -> dict:
        return {"epsilon_absolute": self.epsilon * unit, "step_size_absolute": self.step_size * unit}


@dataclass(frozen=True)
class Adversarial(_EpsilonBall):
    """PGD-K: K projected ascent steps on δ (the parameters' gradients from them discarded), then one
    update on the adversarial loss, optionally plus the clean loss."""

    kind: ClassVar[str] = "adversarial"
    clean_loss: bool = False

    def worst_delta(self, batch: PerturbableBatch, embeds: torch.Tensor, run: RunContext) -> torch.Tensor:
        """δ after K projected ascent steps from `embeds` (detached); torch.autograd.grad leaves the parameters'
        .grad untouched."""
        epsilon, step_size, mask = self.epsilon * run.unit, self.step_size * run.unit, batch.mask
        delta = init_delta(embeds, mask, self.norm, epsilon, run.generator, zero=not self.random_init)
        for _ in range(self.steps):
            delta.requires_grad_(True)
            (grad,) = torch.autograd.grad(batch.loss_of(embeds + delta), delta)
            delta = project(ascent_step(delta.detach(), grad, mask, self.norm, step_size), mask, self.norm, epsilon)
        return delta.detach()

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float:
        embeds = batch.embed()
        delta = self.worst_delta(batch, embeds.detach(), run)
        loss = batch.loss_of(embeds + delta)
        if self.clean_loss:
            loss = loss + batch.loss_of(embeds)
        return run.backward(loss)

    def passes(self) -> int:
        return self.steps + 1 + self.clean_loss


@dataclass(frozen=True)
class FreeLB(_EpsilonBall):
    """FreeLB-K: K ascent steps, each also back-propagating loss/K into the parameters' gradients."""

    kind: ClassVar[str] = "freelb"
    steps: int = 2

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float:
        epsilon, step_size, mask = self.epsilon * run.unit, self.step_size * run.unit, batch.mask
        embeds = batch.embed()
        delta = init_delta(embeds.detach(), mask, self.norm, epsilon, run.generator, zero=not self.random_init)
        total = 0.0
        for step in range(self.steps):
            delta.requires_grad_(True)
            if step:  # the previous backward freed the graph of the word embeddings
                embeds = batch.embed()
            total += run.backward(batch.loss_of(embeds + delta) / self.steps)
            delta = project(
                ascent_step(delta.detach(), delta.grad, mask, self.norm, step_size), mask, self.norm, epsilon
            )
        return total

    def passes(self) -> int:
        return self.steps


def symmetric_kl(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) + KL(q‖p) between the predicted distributions of two logit tensors (fp32, mean over the batch),
    gradients through both."""
    p, q = F.log_softmax(first.float(), dim=-1), F.log_softmax(second.float(), dim=-1)
    forward = F.kl_div(q, p, log_target=True, reduction="batchmean")  # KL(p‖q)
    return forward + F.kl_div(p, q, log_target=True, reduction="batchmean")


@dataclass(frozen=True)
class Consistency:
    """R3F (Aghajanyan et al., ICLR 2021): the clean loss plus `weight` × the symmetric KL divergence between the
    predictions on the clean input and on the input with random δ (σ in units of the injection point's mean norm),
    both directions with gradients. `weight` 0 is the baseline, bit for bit (the noisy pass is then not run)."""

    kind: ClassVar[str] = "consistency"
    distribution: str = "gaussian"
    sigma: float = 0.1
    weight: float = 1.0
    injection: str = "embeddings"

    def backward(self, batch: PerturbableBatch, run: RunContext) -> float:
        if self.weight == 0:
            return run.backward(batch.loss_of(None))
        embeds = batch.embed()
        noise = sample_noise(embeds.detach(), batch.mask, self.distribution, self.sigma * run.unit, run.generator)
        clean, noisy = batch.logits_of(embeds), batch.logits_of(embeds + noise)
        loss = F.cross_entropy(clean.float(), batch.labels) + self.weight * symmetric_kl(clean, noisy)
        return run.backward(loss)

    def absolute(self, unit: float) -> dict:
        return {"sigma_absolute": self.sigma * unit}

    def passes(self) -> int:
        return 2 if self.weight else 1


CLASSES = (Baseline, SynonymAugmentation, RandomPerturbation, Adversarial, FreeLB, Consistency, LinearProbeFineTune)
METHODS = {cls.kind: cls for cls in CLASSES}
# One class per registered kind (training.kinds), and no other.
assert set(METHODS) == set(KINDS), f"method classes {sorted(METHODS)} differ from the registered kinds {sorted(KINDS)}"


def make_method(settings: dict) -> Method:
    """The objective of a configured method, e.g. {"kind": "adversarial", "epsilon": 0.5, "steps": 3}."""
    settings = dict(settings)
    kind = settings.pop("kind")
    if kind not in METHODS:
        raise ValueError(f"unknown method kind {kind!r}; known: {', '.join(METHODS)}")
    cls = METHODS[kind]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(
            f"method kind {kind}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return cls(**settings)
