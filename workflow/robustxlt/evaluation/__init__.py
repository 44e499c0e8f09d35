"""Evaluation stage (rules evaluate, lexical_overlap): takes a run's checkpoint and the test sets (encoded once per
task and model) and writes results/{task}/{model}/{method}/seed{seed}/eval/{name}.json and .predictions.tsv;
and each task's results/{task}/lexical_overlap.csv.

Modules:
    zero_shot        accuracy of a checkpoint on every language's and language pair's test set
    outcomes         per-example correctness packed as hex, as written by evaluation and read by the analysis
    lexical_overlap  vocabulary overlap of each test language with English
"""
