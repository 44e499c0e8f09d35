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
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import torch

from robustxlt.models.perturbation import ascent_step, init_delta, project, sample_noise
from robustxlt.training.kinds import KINDS

# loss_of(None) is the clean loss from the token ids; loss_of(E) the loss with E where δ is injected.
LossOf = Callable[[torch.Tensor | None], torch.Tensor]
# embed() gives the batch's tensor at the injection point, attached to the graph (what produced it trains).
Embed = Callable[[], torch.Tensor]


class Method(Protocol):
    """A training objective: back-propagates one batch's loss into the parameters' gradients."""

    kind: ClassVar[str]
    injection: str

    def backward(
        self, loss_of: LossOf, embed: Embed, mask: torch.Tensor, scale: float, unit: float, generator: torch.Generator
    ) -> float: ...

    def absolute(self, unit: float) -> dict: ...


@dataclass(frozen=True)
class Baseline:
    """Standard fine-tuning."""

    kind: ClassVar[str] = "baseline"
    injection: ClassVar[str] = "embeddings"  # no δ: the clean loss never looks at the injection point

    def backward(
        self, loss_of: LossOf, embed: Embed, mask: torch.Tensor, scale: float, unit: float, generator: torch.Generator
    ) -> float:
        loss = loss_of(None)
        (loss * scale).backward()
        return loss.item()

    def absolute(self, unit: float) -> dict:
        return {}


@dataclass(frozen=True)
class SynonymAugmentation(Baseline):
    """RS-DA: the baseline objective on `copies` synonym-substituted copies of every English training
    pair (made by the augment rule, robustxlt.augmentation.substitution; the originals are not trained on)."""

    kind: ClassVar[str] = "synonym_augmentation"
    copies: int = 10
    # Probability that a word with neighbours is redrawn (1.0: every such word, the paper's script).
    substitution_rate: float = 1.0


@dataclass(frozen=True)
class RandomPerturbation:
    """RS-RP: the loss under a fresh random δ per step, averaged over `draws` draws."""

    kind: ClassVar[str] = "random_perturbation"
    distribution: str = "gaussian"
    sigma: float = 0.1
    draws: int = 1
    injection: str = "embeddings"

    def backward(
        self, loss_of: LossOf, embed: Embed, mask: torch.Tensor, scale: float, unit: float, generator: torch.Generator
    ) -> float:
        total = 0.0
        for _ in range(self.draws):
            embeds = embed()
            noise = sample_noise(embeds.detach(), mask, self.distribution, self.sigma * unit, generator)
            loss = loss_of(embeds + noise) / self.draws
            (loss * scale).backward()
            total += loss.item()
        return total

    def absolute(self, unit: float) -> dict:
        return {"sigma_absolute": self.sigma * unit}


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

    def worst_delta(
        self, loss_of: LossOf, embeds: torch.Tensor, mask: torch.Tensor, unit: float, generator: torch.Generator
    ) -> torch.Tensor:
        """δ after K projected ascent steps; torch.autograd.grad leaves the parameters' .grad untouched."""
        epsilon, step_size = self.epsilon * unit, self.step_size * unit
        delta = init_delta(embeds, mask, self.norm, epsilon, generator, zero=not self.random_init)
        for _ in range(self.steps):
            delta.requires_grad_(True)
            (grad,) = torch.autograd.grad(loss_of(embeds + delta), delta)
            delta = project(ascent_step(delta.detach(), grad, mask, self.norm, step_size), mask, self.norm, epsilon)
        return delta.detach()

    def backward(
        self, loss_of: LossOf, embed: Embed, mask: torch.Tensor, scale: float, unit: float, generator: torch.Generator
    ) -> float:
        embeds = embed()
        delta = self.worst_delta(loss_of, embeds.detach(), mask, unit, generator)
        loss = loss_of(embeds + delta)
        if self.clean_loss:
            loss = loss + loss_of(embeds)
        (loss * scale).backward()
        return loss.item()


@dataclass(frozen=True)
class FreeLB(_EpsilonBall):
    """FreeLB-K: K ascent steps, each also back-propagating loss/K into the parameters' gradients."""

    kind: ClassVar[str] = "freelb"
    steps: int = 2

    def backward(
        self, loss_of: LossOf, embed: Embed, mask: torch.Tensor, scale: float, unit: float, generator: torch.Generator
    ) -> float:
        epsilon, step_size = self.epsilon * unit, self.step_size * unit
        embeds = embed()
        delta = init_delta(embeds.detach(), mask, self.norm, epsilon, generator, zero=not self.random_init)
        total = 0.0
        for step in range(self.steps):
            delta.requires_grad_(True)
            if step:  # the previous backward freed the graph of the word embeddings
                embeds = embed()
            loss = loss_of(embeds + delta) / self.steps
            (loss * scale).backward()
            total += loss.item()
            delta = project(
                ascent_step(delta.detach(), delta.grad, mask, self.norm, step_size), mask, self.norm, epsilon
            )
        return total


METHODS = {cls.kind: cls for cls in (Baseline, SynonymAugmentation, RandomPerturbation, Adversarial, FreeLB)}
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
