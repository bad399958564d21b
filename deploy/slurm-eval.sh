#!/bin/bash
# Sharded evaluation as a Slurm job array: task i of N evaluates a deterministic 1/N of the images
# (`--shard auto/N` reads SLURM_ARRAY_TASK_ID, minus SLURM_ARRAY_TASK_MIN) and writes its part;
# a dependent job merges the parts into the report of one unsharded run.
#
#   export MODEL=b7.onnx DATA=imagenet/val LABELS=imagenet/val.txt OUT=results
#   job=$(sbatch --parsable deploy/slurm-eval.sh)
#   sbatch --dependency=afterok:$job --wrap "effnet eval --merge $OUT/part-*.json --json $OUT/eval.json"
#
#SBATCH --job-name=effnet-eval
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=12G
#SBATCH --output=effnet-eval-%A_%a.log
set -euo pipefail
: "${MODEL:?set MODEL to an .onnx file or model id}" "${DATA:?set DATA to the image folder}" "${OUT:=results}"
N=${SLURM_ARRAY_TASK_COUNT:?run this script with sbatch (a job array)}
mkdir -p "$OUT"
effnet eval "$MODEL" --data "$DATA" ${LABELS:+--labels "$LABELS"} --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "auto/$N" --predictions "$OUT/part-$SLURM_ARRAY_TASK_ID.json" --force
# Merge once the whole array has finished (submit right after this script):
#   sbatch --dependency=afterok:<array job id> --wrap "effnet eval --merge $OUT/part-*.json --json $OUT/eval.json"
