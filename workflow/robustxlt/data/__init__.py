"""Data stage (rules prepare_data, generalized_pairs): takes a task's source (hub, local:<dir>, embedded, tiny) and
writes its canonical files, resources/data/{task}/{split}-{lang}.tsv + manifest.json, and the generalized
language-pair test sets (resources/data/{task}/generalized.json).

Modules:
    tasks               the task registry (labels, languages, hub ids and revisions)
    canonical           the canonical pair files and manifests: read, write, checksums, placeholders
    origins             where a source lives: local:<dir> directories, HF_HUB_OFFLINE
    sources             hub datasets and local XTREME-style files into canonical files
    catalogues          the wheels and message catalogues the embedded benchmark is built from
    source_fields       form-field labels and help texts found in a wheel's Python sources (ast patterns)
    embedded_fields     the embedded benchmark's usable fields: filters, translations, de-duplication
    embedded_pairs      its splits, overlap-matched negative pairs and per-language parallel test rows
    embedded_manifest   its provenance: counts per split and language against the targets, overlap baseline
    embedded_benchmark  the embedded proxy benchmark, built from the pinned wheels
    generalized         generalized (lang1, lang2) test pairs and their result names
    tiny                generated task data of the tiny stand-in setup
    prepare             one task's canonical files from its configured source
"""
