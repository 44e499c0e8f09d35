from pathlib import Path

from robustxlt.analysis.distances import write_distances
from robustxlt.pipeline.jobs import log_job_to

log_job_to(snakemake.log[0])
write_distances(snakemake.params.languages, Path(snakemake.output.distances), snakemake.params.iso639_3)
