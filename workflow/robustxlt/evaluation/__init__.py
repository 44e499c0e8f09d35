"""Evaluation stage (rules frozen_test_states, evaluate, premise_pretrained, lexical_overlap): takes a run's checkpoint
and the test sets (encoded once per task and model; with cached frozen layers, their output too) and writes
results/{task}/{model}/{method}/seed{seed}/eval/{name}.json and .predictions.tsv, and eval/premise.json (each
language's shift from English and cross-lingual consistency, from the same forward passes); per task and model
results/{task}/{model}/premise_pretrained.json (the pretrained encoder's units of ε and σ and its shifts); and each
task's results/{task}/lexical_overlap.csv.

Modules:
    zero_shot           accuracy of a checkpoint on every language's and language pair's test set
    premise             the premise's measurements: shift of parallel rows from English, cross-lingual consistency
    premise_pretrained  the pretrained encoder's units and shifts
    frozen_test_states  the frozen layers' output for every test set, once per model for all its checkpoints
    outcomes            per-example correctness packed as hex, as written by evaluation and read by the analysis
    lexical_overlap     vocabulary overlap of each test language with English
"""
