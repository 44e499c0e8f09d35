# robustxlt: robust training for zero-shot cross-lingual transfer (Huang et al., EMNLP 2021).
# Thin entry point: configuration, validation, rule files, targets. Logic lives in workflow/robustxlt.
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))


# A preset given with --configfile is a whole configuration, not a patch on config.yaml.
if not workflow.overwrite_configfiles:

    configfile: str(Path(workflow.basedir) / "config.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    task="|".join(map(re.escape, TASKS)),
    model="|".join(map(re.escape, MODELS)),
    method="|".join(map(re.escape, variant_names())),
    seed=r"\d+",
    lang=r"[a-z]{2,3}",


include: "workflow/rules/data.smk"
include: "workflow/rules/augment.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analysis.smk"


rule all:
    default_target: True
    input:
        "results/metrics.csv",
        rendered_files(),
