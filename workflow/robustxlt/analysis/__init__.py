"""Analysis stage (rules aggregate, distances, render): takes the evaluation results and writes
results/metrics.csv, results/selection.csv, results/distances.csv, and the tables and figures of each
(task, model) under results/tables/ and results/figures/.

Modules:
    aggregate   every run's results into metrics.csv and selection.csv
    statistics  seed summaries, paired bootstrap improvements, correlations
    distances   language distances (lang2vec)
    published   the paper's published rows
    tables      the tables (a package: one module per table family)
    figures     the figures (one module: they share its layout helpers)
    render      all tables and figures of one (task, model): what the render rule calls
"""
