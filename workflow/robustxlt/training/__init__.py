"""Training stage (rules train, select_strength): takes a task's canonical files (or an augmented training file)
and a prepared model, and writes a fine-tuned checkpoint and results/{task}/{model}/{method}/seed{seed}/
train_log.jsonl; for swept methods, results/{task}/{model}/{method}/selection.json (the variant best on English dev).

Modules:
    settings      training defaults and settings, without torch
    kinds         the registry of method kinds and their traits, without torch
    methods       one class per method kind: its training step
    injection     where a perturbation enters the model (embeddings or a hidden layer)
    resume        checkpoint state and random streams, to resume an interrupted run
    outputs       a run's training log and its best-dev checkpoint
    sweep         swept method variants, their names and the chosen one
    model_setup   a run's model, optimizer, perturbation units and δ generator before its first step
    loop          the training loop of one run
    encoded       English train and dev tokenised once per task and model, read by every training
    micro_batch   the micro-batch a card holds, the effective batch kept
"""
