"""The perturbation math of adversarial training and RS-RP, as small pure functions.

Shapes: embeddings ``E`` and perturbations ``δ`` are (batch, seq, hidden); ``mask`` is
(batch, seq) with 1 for real tokens and 0 for padding (bool, int or float all work).

Per-token ball: the paper's constraint is on every token separately, ``‖δ_i‖ ≤ ε`` for each
position i, not on the flattened sequence. So norms here are always taken over the hidden
dimension only, ℓ2 by default and ℓ∞ (``"linf"``) as an option. Padding positions carry no
perturbation: every function returns exactly 0 there.

Units: the functions take ε, σ and the step size as absolute lengths in embedding space. The
pipeline specifies them as multiples of ``mean_token_norm`` (the mean ℓ2 norm of the model's
input token embeddings) and converts before calling, so one setting carries across models whose
embeddings have different scales.

Randomness: every draw goes through the given ``torch.Generator`` (the global RNG when it is
None), so the same seed gives the same output. Nothing here modifies its inputs in place.
"""

from __future__ import annotations

import math

import torch

NORMS = ("l2", "linf")
NOISE_DISTRIBUTIONS = ("gaussian", "uniform_ball")
# Guards divisions by a token norm; tiny so a zero gradient gives a zero step, not NaN.
_NORM_FLOOR = 1e-12


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; expected one of {NORMS}")


def _check_nonnegative(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def _token_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(batch, seq) mask as a (batch, seq, 1) multiplier of ``like``'s dtype and device."""
    # Broadcasting over hidden lets one multiply zero a whole padded token.
    return mask.to(device=like.device, dtype=like.dtype).unsqueeze(-1)


def _sample_device(generator: torch.Generator | None, like: torch.Tensor) -> torch.device:
    # torch requires draws to happen on the generator's device; results are moved afterwards.
    return generator.device if generator is not None else like.device


def _gaussian(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    draw = torch.randn(like.shape, generator=generator, device=_sample_device(generator, like))
    return draw.to(device=like.device, dtype=like.dtype)


def _uniform(like: torch.Tensor, shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
    draw = torch.rand(shape, generator=generator, device=_sample_device(generator, like))
    return draw.to(device=like.device, dtype=like.dtype)


def _token_norms(x: torch.Tensor) -> torch.Tensor:
    """ℓ2 norm of every token vector, shape (batch, seq, 1)."""
    return torch.linalg.vector_norm(x, ord=2, dim=-1, keepdim=True)


def _uniform_in_l2_ball(like: torch.Tensor, radius: float, generator: torch.Generator | None) -> torch.Tensor:
    """One point per token, uniform in the ℓ2 ball of ``radius`` in hidden-space."""
    hidden = like.shape[-1]
    direction = _gaussian(like, generator)
    # A normalised isotropic Gaussian is uniform on the sphere.
    direction = direction / _token_norms(direction).clamp_min(_NORM_FLOOR)
    # Volume grows as r^d, so r = R·U^(1/d) is uniform in the ball (R·U would crowd the centre).
    scale = radius * _uniform(like, like.shape[:-1] + (1,), generator).pow(1.0 / hidden)
    return direction * scale


def init_delta(
    embeds: torch.Tensor,
    mask: torch.Tensor,
    norm: str,
    epsilon: float,
    generator: torch.Generator | None,
    zero: bool = False,
) -> torch.Tensor:
    """Starting δ for the ascent: zero, or uniform random inside each token's ε-ball.

    ℓ2: direction uniform on the sphere, radius ε·U^(1/d) with d = hidden size, which is the
    uniform distribution over the ball (its mean radius is d/(d+1)·ε). ℓ∞: every coordinate
    uniform in [-ε, ε], the uniform distribution over the ℓ∞ ball. Padding is exactly 0.
    """
    _check_norm(norm)
    _check_nonnegative("epsilon", epsilon)
    if zero:
        return torch.zeros_like(embeds)
    if norm == "l2":
        delta = _uniform_in_l2_ball(embeds, epsilon, generator)
    else:
        delta = (2.0 * _uniform(embeds, embeds.shape, generator) - 1.0) * epsilon
    return delta * _token_mask(mask, embeds)


def project(delta: torch.Tensor, mask: torch.Tensor, norm: str, epsilon: float) -> torch.Tensor:
    """δ projected onto each token's ε-ball; tokens already inside are returned unchanged.

    ℓ2: a token whose norm exceeds ε is rescaled to norm ε (the nearest point of the ball).
    ℓ∞: coordinates are clamped to [-ε, ε]. Padding is exactly 0.
    """
    _check_norm(norm)
    _check_nonnegative("epsilon", epsilon)
    if norm == "l2":
        norms = _token_norms(delta)
        # torch.where keeps inside tokens bit-identical instead of multiplying by ~1.0.
        projected = torch.where(norms > epsilon, delta * (epsilon / norms.clamp_min(_NORM_FLOOR)), delta)
    else:
        projected = delta.clamp(-epsilon, epsilon)
    return projected * _token_mask(mask, delta)


def ascent_step(
    delta: torch.Tensor, grad: torch.Tensor, mask: torch.Tensor, norm: str, step_size: float
) -> torch.Tensor:
    """δ + step_size · (steepest-ascent direction of the per-token norm), without projection.

    ℓ2: grad_i / ‖grad_i‖ per token, so every token moves by exactly ``step_size`` whatever the
    gradient's scale (tokens with zero gradient do not move). ℓ∞: sign(grad). Padding is 0.
    """
    _check_norm(norm)
    _check_nonnegative("step_size", step_size)
    if norm == "l2":
        direction = grad / _token_norms(grad).clamp_min(_NORM_FLOOR)
    else:
        direction = grad.sign()
    return (delta + step_size * direction.to(delta.dtype)) * _token_mask(mask, delta)


def sample_noise(
    embeds: torch.Tensor,
    mask: torch.Tensor,
    distribution: str,
    sigma: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """RS-RP's random δ with σ a per-token length, like ε: ``"gaussian"`` N(0, σ²/d) per coordinate
    (d = hidden size, so the root-mean-square token norm is σ), or ``"uniform_ball"`` uniform in each
    token's ℓ2 ball of radius σ. Padding is exactly 0, and σ = 0 gives exactly 0.

    σ as a token length rather than a per-coordinate std keeps one setting comparable with ε and
    across models of different widths (a per-coordinate σ grows the token norm by √d).

    The same draws are made whatever σ is (σ only scales them), so runs that differ only in σ
    see the same random stream.
    """
    _check_nonnegative("sigma", sigma)
    if distribution == "gaussian":
        noise = _gaussian(embeds, generator) * (sigma / math.sqrt(embeds.shape[-1]))
    elif distribution == "uniform_ball":
        noise = _uniform_in_l2_ball(embeds, sigma, generator)
    else:
        raise ValueError(f"unknown noise distribution {distribution!r}; expected one of {NOISE_DISTRIBUTIONS}")
    # Adding +0.0 turns any -0.0 from σ = 0 into a plain zero.
    return noise * _token_mask(mask, embeds) + 0.0


def mean_token_norm(embedding_matrix: torch.Tensor, token_ids: torch.Tensor | None = None) -> float:
    """Mean ℓ2 norm of the rows of the input embedding matrix (vocab, hidden): the unit of ε and σ.

    With ``token_ids`` only the distinct ids given count, each once (the vocabulary actually seen
    in the data, not weighted by frequency), so rare unused rows do not set the scale.
    """
    matrix = embedding_matrix.detach()
    if token_ids is not None:
        ids = torch.unique(token_ids.detach().reshape(-1)).to(matrix.device)
        if ids.numel() == 0:
            raise ValueError("token_ids is empty")
        matrix = matrix.index_select(0, ids)
    # float64 so the mean over a large vocabulary does not lose precision in half precision.
    return float(torch.linalg.vector_norm(matrix.double(), ord=2, dim=-1).mean())
