"""Data stage (rules prepare_data, generalized_pairs): takes a task's source (hub, local:<dir>, embedded, tiny) and
writes its canonical files, resources/data/{task}/{split}-{lang}.tsv + manifest.json, and the generalized
language-pair test sets (resources/data/{task}/generalized.json).

Modules:
    tasks               the task registry (labels, languages, hub ids and revisions)
    canonical           the canonical pair files and manifests: read, write, checksums, placeholders
    origins             where a source lives: local:<dir> directories, HF_HUB_OFFLINE
    sources             hub datasets and local XTREME-style files into canonical files
    catalogues          the wheels and message catalogues the embedded benchmark is built from
    embedded_fields     the embedded benchmark's fields: form labels and help texts from the wheels' sources
    embedded_benchmark  the embedded proxy benchmark: pairs, splits and languages (human translations from catalogues)
    generalized         generalized (lang1, lang2) test pairs and their result names
    tiny                generated task data of the tiny stand-in setup
    prepare             one task's canonical files from its configured source
"""
