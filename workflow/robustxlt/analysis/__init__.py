"""Analysis stage (rules aggregate, distances, render): takes the evaluation results and writes
results/metrics.csv, results/selection.csv, results/premise.csv, results/distances.csv, and the tables and
figures of each (task, model) under results/tables/ and results/figures/.

Modules:
    aggregate       every run's results into metrics.csv, selection.csv and premise.csv
    statistics      seed summaries, paired bootstrap improvements, correlations
    distances       language distances (lang2vec)
    published       the paper's published rows
    tables          the tables (a package: one module per table family)
    figure_layout   what every figure shares: panels in inches, title, footer, palette
    figures         the paper's figures and FIGURES (every figure by name)
    premise_figure  the measured shift from English against the trained radii
    render          all tables and figures of one (task, model): what the render rule calls
    claims          the paper's three claims read from the tables, for the summary
    summary         the run's answer (results/summary.md)
"""
