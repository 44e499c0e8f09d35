"""The perturbation math: per-token balls, padding, ascent direction, noise statistics, determinism."""

from __future__ import annotations

import math

import pytest
import torch
from robustxlt.models.perturbation import ascent_step, init_delta, mean_token_norm, project, sample_noise

SHAPES = [(1, 1, 1), (1, 5, 3), (2, 7, 16), (4, 3, 32), (3, 11, 64)]
NORMS = ["l2", "linf"]


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def padded_mask(batch: int, seq: int, seed: int = 0) -> torch.Tensor:
    """Random lengths in [1, seq]; at least one row is padded when seq > 1."""
    lengths = torch.randint(1, seq + 1, (batch,), generator=seeded(seed))
    lengths[0] = max(1, seq - 2)
    return (torch.arange(seq)[None, :] < lengths[:, None]).long()


def token_norms(x: torch.Tensor, norm: str) -> torch.Tensor:
    return torch.linalg.vector_norm(x, ord=2 if norm == "l2" else math.inf, dim=-1)


def assert_padding_zero(x: torch.Tensor, mask: torch.Tensor) -> None:
    assert torch.equal(x[mask == 0], torch.zeros_like(x[mask == 0]))


# --- projection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("shape", SHAPES)
def test_projection_never_leaves_the_per_token_ball(norm, shape):
    epsilon = 0.37
    big = 50.0 * torch.randn(shape, generator=seeded(1))
    mask = padded_mask(*shape[:2])
    out = project(big, mask, norm, epsilon)
    assert (token_norms(out, norm) <= epsilon * (1 + 1e-6)).all()
    # Big tokens land on the boundary, i.e. the projection does not shrink more than needed.
    real = mask.bool()
    assert torch.allclose(token_norms(out, norm)[real], torch.full_like(out[..., 0][real], epsilon), rtol=1e-5)
    assert_padding_zero(out, mask)


@pytest.mark.parametrize("norm", NORMS)
def test_projection_leaves_tokens_inside_the_ball_unchanged(norm):
    epsilon = 1.0
    delta = torch.randn(3, 6, 16, generator=seeded(2))
    delta = delta / token_norms(delta, norm).unsqueeze(-1) * 0.5  # all strictly inside
    delta[0, 1] *= 10.0  # this one token is outside
    mask = torch.ones(3, 6, dtype=torch.long)
    out = project(delta, mask, norm, epsilon)
    inside = torch.ones(3, 6, dtype=torch.bool)
    inside[0, 1] = False
    assert torch.equal(out[inside], delta[inside])
    assert not torch.equal(out[0, 1], delta[0, 1])


def test_l2_projection_keeps_the_direction():
    delta = torch.randn(2, 4, 8, generator=seeded(3)) * 10
    out = project(delta, torch.ones(2, 4), "l2", 0.5)
    cosine = torch.nn.functional.cosine_similarity(out, delta, dim=-1)
    assert torch.allclose(cosine, torch.ones_like(cosine), atol=1e-6)


def test_inputs_are_not_modified():
    delta = torch.randn(2, 4, 8, generator=seeded(4)) * 10
    grad = torch.randn(2, 4, 8, generator=seeded(5))
    mask = padded_mask(2, 4)
    delta_copy, grad_copy, mask_copy = delta.clone(), grad.clone(), mask.clone()
    for norm in NORMS:
        project(delta, mask, norm, 0.5)
        ascent_step(delta, grad, mask, norm, 0.1)
        init_delta(delta, mask, norm, 0.5, seeded(0))
    sample_noise(delta, mask, "gaussian", 1.0, seeded(0))
    assert torch.equal(delta, delta_copy) and torch.equal(grad, grad_copy) and torch.equal(mask, mask_copy)


# --- padding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask_dtype", [torch.long, torch.bool, torch.float32])
@pytest.mark.parametrize("shape", SHAPES[1:])
def test_padding_stays_exactly_zero_everywhere(shape, mask_dtype):
    mask = padded_mask(*shape[:2]).to(mask_dtype)
    embeds = torch.randn(shape, generator=seeded(6))
    # Non-zero values at padding in the inputs, so a missing mask would show.
    grad = torch.randn(shape, generator=seeded(7))
    dirty = torch.randn(shape, generator=seeded(8)) * 5
    perturbed = [
        sample_noise(embeds, mask, "gaussian", 0.3, seeded(0)),
        sample_noise(embeds, mask, "uniform_ball", 0.3, seeded(0)),
    ]
    for norm in NORMS:
        perturbed += [
            init_delta(embeds, mask, norm, 0.3, seeded(0)),
            ascent_step(dirty, grad, mask, norm, 0.1),
            project(dirty, mask, norm, 0.3),
        ]
        zero = init_delta(embeds, mask, norm, 0.3, seeded(0), zero=True)
        assert torch.equal(zero, torch.zeros_like(embeds))
    for out in perturbed:
        assert out.shape == embeds.shape and out.dtype == embeds.dtype
        assert_padding_zero(out, mask.long())
        # Real tokens are perturbed, so the padding check is not passing on an all-zero output.
        assert (out[mask.long() == 1] != 0).all()


# --- ascent -------------------------------------------------------------------------------------


def test_ascent_moves_every_real_token_by_the_step_size():
    delta = torch.zeros(2, 5, 16)
    grad = torch.randn(2, 5, 16, generator=seeded(9)) * torch.tensor([1e-4, 1.0, 1e3, 1.0, 1.0])[None, :, None]
    mask = torch.ones(2, 5)
    moved = ascent_step(delta, grad, mask, "l2", 0.2)
    assert torch.allclose(token_norms(moved, "l2"), torch.full((2, 5), 0.2), rtol=1e-5)
    assert torch.equal(ascent_step(delta, grad, mask, "linf", 0.2), 0.2 * grad.sign())
    # A zero gradient gives a zero step rather than NaN.
    assert torch.equal(ascent_step(delta, torch.zeros_like(grad), mask, "l2", 0.2), delta)


def tiny_bert(seed: int):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=3,
    )
    return BertForSequenceClassification(config).eval()


def bert_loss(model, input_ids, mask, labels, delta):
    embeds = model.get_input_embeddings()(input_ids)
    return model(inputs_embeds=embeds + delta, attention_mask=mask, labels=labels).loss


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("random_start", [False, True])
def test_one_ascent_step_increases_the_loss_of_a_tiny_bert(norm, random_start):
    for seed in range(5):
        model = tiny_bert(seed)
        gen = seeded(100 + seed)
        input_ids = torch.randint(1, 40, (4, 9), generator=gen)
        mask = padded_mask(4, 9, seed)
        input_ids = input_ids * mask
        labels = torch.randint(0, 3, (4,), generator=gen)
        embeds = model.get_input_embeddings()(input_ids).detach()
        unit = mean_token_norm(model.get_input_embeddings().weight, input_ids[mask == 1])
        epsilon, step = 0.1 * unit, 0.02 * unit
        if norm == "linf":  # the ℓ∞ step moves every coordinate, so scale it per coordinate
            epsilon, step = epsilon / math.sqrt(32), step / math.sqrt(32)

        delta = init_delta(embeds, mask, norm, epsilon, gen, zero=not random_start).requires_grad_(True)
        loss = bert_loss(model, input_ids, mask, labels, delta)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            new_delta = project(ascent_step(delta, grad, mask, norm, step), mask, norm, epsilon)
            new_loss = bert_loss(model, input_ids, mask, labels, new_delta)
        assert new_loss.item() > loss.item(), f"seed {seed}: {new_loss.item()} <= {loss.item()}"
        assert (token_norms(new_delta, norm) <= epsilon * (1 + 1e-6)).all()


def test_a_step_against_the_gradient_would_decrease_the_loss():
    """The check above can fail: descending instead of ascending lowers the loss."""
    model = tiny_bert(0)
    input_ids = torch.randint(1, 40, (4, 9), generator=seeded(0))
    mask = torch.ones(4, 9, dtype=torch.long)
    labels = torch.tensor([0, 1, 2, 0])
    delta = torch.zeros(4, 9, 32, requires_grad=True)
    loss = bert_loss(model, input_ids, mask, labels, delta)
    (grad,) = torch.autograd.grad(loss, delta)
    with torch.no_grad():
        descended = bert_loss(model, input_ids, mask, labels, ascent_step(delta, -grad, mask, "l2", 0.01))
    assert descended.item() < loss.item()


# --- random draws -------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [2, 8, 32])
def test_uniform_ball_draws_fill_the_l2_ball(hidden):
    radius = 0.7
    embeds = torch.zeros(64, 64, hidden)
    mask = torch.ones(64, 64)
    expected_mean = hidden / (hidden + 1) * radius
    for draw in (
        sample_noise(embeds, mask, "uniform_ball", radius, seeded(10)),
        init_delta(embeds, mask, "l2", radius, seeded(11)),
    ):
        r = token_norms(draw, "l2")
        assert (r <= radius * (1 + 1e-6)).all()
        # Mean of r = R·U^(1/d) is d/(d+1)·R; R·U (mean R/2) or the sphere (mean R) would fail.
        assert abs(r.mean().item() - expected_mean) < 0.01 * radius
        # P(r ≤ R/2) = 2^-d: the inside is reached, not only the shell.
        assert abs((r <= radius / 2).float().mean().item() - 0.5**hidden) < 0.02
        # Directions are isotropic: the mean vector is near 0.
        assert draw.reshape(-1, hidden).mean(0).abs().max().item() < 0.03 * radius


def test_linf_init_is_uniform_in_the_cube():
    epsilon = 0.4
    delta = init_delta(torch.zeros(32, 32, 32), torch.ones(32, 32), "linf", epsilon, seeded(12))
    assert delta.abs().max().item() <= epsilon
    # Uniform on [-ε, ε]: mean |x| = ε/2, std = ε/√3.
    assert abs(delta.abs().mean().item() - epsilon / 2) < 0.01 * epsilon
    assert abs(delta.std().item() - epsilon / math.sqrt(3)) < 0.01 * epsilon


@pytest.mark.parametrize("sigma", [0.01, 0.5, 3.0])
def test_gaussian_noise_has_token_norms_of_sigma(sigma):
    embeds = torch.randn(16, 32, 64, generator=seeded(13)) * 100  # the noise must not depend on E
    noise = sample_noise(embeds, torch.ones(16, 32), "gaussian", sigma, seeded(14))
    # σ is the root-mean-square token norm, so each coordinate has std σ/√d.
    # 32768 draws: the sample std is within ~0.4% of its value (1 s.e.); 2% is > 5 s.e.
    assert abs(noise.std().item() / (sigma / 8) - 1) < 0.02
    assert abs(token_norms(noise, "l2").pow(2).mean().sqrt().item() / sigma - 1) < 0.02
    assert abs(noise.mean().item()) < 0.03 * sigma / 8


def test_same_seed_same_output_and_different_seed_different_output():
    embeds = torch.randn(3, 5, 16)
    mask = padded_mask(3, 5)
    draws = {
        "gaussian": lambda g: sample_noise(embeds, mask, "gaussian", 0.5, g),
        "uniform_ball": lambda g: sample_noise(embeds, mask, "uniform_ball", 0.5, g),
        "init_l2": lambda g: init_delta(embeds, mask, "l2", 0.5, g),
        "init_linf": lambda g: init_delta(embeds, mask, "linf", 0.5, g),
    }
    for name, draw in draws.items():
        assert torch.equal(draw(seeded(42)), draw(seeded(42))), name
        assert not torch.equal(draw(seeded(42)), draw(seeded(43))), name


@pytest.mark.parametrize("distribution", ["gaussian", "uniform_ball"])
def test_zero_sigma_gives_exactly_zero_noise(distribution):
    embeds = torch.randn(2, 4, 8)
    noise = sample_noise(embeds, torch.ones(2, 4), distribution, 0.0, seeded(0))
    assert torch.equal(noise, torch.zeros_like(embeds))
    assert not torch.signbit(noise).any()  # no -0.0 either


def test_bad_arguments_are_rejected():
    x = torch.zeros(1, 2, 3)
    mask = torch.ones(1, 2)
    with pytest.raises(ValueError):
        project(x, mask, "l1", 1.0)
    with pytest.raises(ValueError):
        sample_noise(x, mask, "laplace", 1.0, None)
    with pytest.raises(ValueError):
        init_delta(x, mask, "l2", -1.0, None)


# --- units --------------------------------------------------------------------------------------


def test_mean_token_norm_on_a_known_matrix():
    matrix = torch.tensor([[3.0, 4.0], [0.0, 1.0], [6.0, 8.0], [0.0, 0.0]])  # norms 5, 1, 10, 0
    assert mean_token_norm(matrix) == pytest.approx(4.0)
    # Only the distinct ids seen count, each once: (5 + 10) / 2, not frequency-weighted (5 + 5·10) / 6.
    assert mean_token_norm(matrix, torch.tensor([[0, 2, 2], [2, 2, 2]])) == pytest.approx(7.5)
    assert mean_token_norm(matrix, torch.tensor([1])) == pytest.approx(1.0)
    # Works on a parameter that requires grad and returns a plain float.
    value = mean_token_norm(torch.nn.Parameter(matrix))
    assert isinstance(value, float) and value == pytest.approx(4.0)
