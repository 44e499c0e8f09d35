"""The paper's tables, rendered from metrics.csv, distances.csv and selection.csv alone, in Markdown, LaTeX and CSV.

`results.load_results` reads the files once and computes every statistic (robustxlt.analysis.statistics); each
`*_table` function turns those into one `Table`; `formatting.write_table` writes its three formats. Display cells
are percent (accuracy) and percentage points (differences); the CSVs carry the same numbers unrounded, the unit in
the column name (`_pct`, `_pp`).

Modules:
    results       Results and load_results: every statistic of one (task, model), computed once
    formatting    Table, cells, common notes, caption, Markdown / LaTeX / CSV writers, atomic write
    standard      standard setting: accuracy per language (beside the paper's rows), improvements
    generalized   generalized setting: average over language pairs, and per pair
    selection     strength selection on English dev
    costs         time and memory per method
    correlations  improvement against language distance (URIEL types and the measured shift)
    premise       the measured shift from English beside the trained radii; cross-lingual consistency
    registry      TABLES, TABLE_FORMATS and write_tables
"""
