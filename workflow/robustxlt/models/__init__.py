"""Models stage (rules prepare_model, encode_test_sets): takes a model's source (embedded, hub:<id>, local:<dir>,
tiny:<architecture>) and writes resources/models/{model} as a Hugging Face directory; holds what every later job
needs to run a model.

Modules:
    loading        prepare_model and describe_model: a model's directory from its source, and its one-line description
    embedded       the embedded encoder, converted from its packaged weights
    tiny           tiny randomly initialised BERT / XLM-R stand-ins (`python -m robustxlt.models.tiny DIR`)
    runtime        where and how a model runs: device, precision, autocast, threads, seeding, eval mode
    batching       tokenised sentence pairs and padded batches
    perturbation   the perturbation math on input embeddings (δ, balls, noise), for training and smoothed prediction
    prediction     predicted labels (plain or smoothed), accuracy, collapse
    frozen_layers  a classifier run in parts (frozen bottom, layers above, head); the bottom's output kept per example
    shape          an encoder's weights, FLOPs per token and training memory, from its configuration
"""
