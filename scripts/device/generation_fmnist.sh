#!/usr/bin/env bash
# The Fashion-MNIST generation experiment of docs/results/generation-fmnist.md over consecutive device calls
# (the machine keeps runs/ while warm; every call resumes what the last left). Carry .whl and .devdata.
#   PHASE=train: the two multi-scale tokenizers (Λ24-SQ, BSQ-18), their token caches and test reconstructions,
#                then the three generators up to GEN_STOP steps
#   PHASE=more:  the generators continue to GEN_STOP (--resume auto)
#   PHASE=sample: CFG sweep samples (10,000 images per setting), compact copies under $OUT
source scripts/device/setup.sh
FM="$SLQ_DATA/fashion-mnist"
TOK_STEPS=${TOK_STEPS:-3000}
GEN_STEPS=${GEN_STEPS:-3000}
GEN_STOP=${GEN_STOP:-$GEN_STEPS}
GENERATORS="leech24-full leech24-factorized bsq18-bits"
# wall-clock caps (s) so that every call ends inside the device limit with its results archived; a run
# stopped by a cap continues from its last checkpoint in the next call
TOK_LIMIT=${TOK_LIMIT:-300}
GEN_LIMIT=${GEN_LIMIT:-300}
# $OUT takes at most 8 files back: results gather in $RES and leave as a few archives at the end
RES=/tmp/results-$PHASE; rm -rf "$RES"; mkdir -p runs "$RES"
log() { echo "[$(date +%T)] $*"; }

if [ "$PHASE" = train ]; then
  for q in leech24 bsq18; do
    timeout $TOK_LIMIT python3 -m experiments.cli train-tokenizer --config configs/fmnist-tokenizer-$q.yaml --set data.train_dir="$FM" \
      --set train.steps=$TOK_STEPS --set train.progress_bar=false --resume auto > "$RES/tokenizer-$q.log" 2>&1 &
  done
  wait; log "tokenizers done"; tail -n 3 "$RES"/tokenizer-*.log
  for q in leech24 bsq18; do
    cp runs/fmnist-tokenizer-$q/train.csv "$RES/tokenizer-$q-train.csv"
    slq tokenize runs/fmnist-tokenizer-$q --data "$FM" --split train --out runs/fmnist-tokens-$q-train.safetensors \
      --device cuda > "$RES/tokenize-$q.log" 2>&1 &
    slq tokenize runs/fmnist-tokenizer-$q --data "$FM" --split test --out runs/fmnist-tokens-$q-test.safetensors \
      --reconstructions "$OUT/recon-$q-test.npz" --device cuda >> "$RES/tokenize-$q.log" 2>&1 &
  done
  wait; log "tokenized"; tail -n 1 "$RES"/tokenize-*.log
fi

if [ "$PHASE" = train ] || [ "$PHASE" = more ]; then
  for g in $GENERATORS; do
    timeout $GEN_LIMIT python3 -m experiments.cli train-generator --config configs/fmnist-generator-$g.yaml --set train.steps=$GEN_STEPS \
      --set train.progress_bar=false --set train.checkpoint_every=500 --resume auto --stop-at $GEN_STOP \
      > "$RES/generator-$g.log" 2>&1 &
  done
  wait; log "generators at $GEN_STOP"
  for g in $GENERATORS; do tail -n 2 "$RES/generator-$g.log"; cp runs/fmnist-generator-$g/train.csv "$RES/generator-$g-train.csv"; done
fi

if [ "$PHASE" = sample ]; then
  for g in $GENERATORS; do
    for cfg in ${CFGS:-1 1.5 2 3 4}; do
      slq sample runs/fmnist-generator-$g --per-class ${PER_CLASS:-1000} --cfg $cfg --seed 0 --batch-size 2000 \
        --device cuda --out runs/samples/$g-cfg$cfg > "$RES/sample-$g-cfg$cfg.log" 2>&1 || tail -n 5 "$RES/sample-$g-cfg$cfg.log"
      # grey (N, 32, 32) uint8 and labels: what the evaluator reads, a few MB compressed
      python3 -c "import numpy as np, sys; z=np.load(sys.argv[1]); np.savez_compressed(sys.argv[2], images=z['images'].mean(1).round().astype(np.uint8), labels=z['labels'])" \
        runs/samples/$g-cfg$cfg/samples.npz "$RES/samples-$g-cfg$cfg.npz"
      cp runs/samples/$g-cfg$cfg/sampling.json "$RES/sampling-$g-cfg$cfg.json"
    done
    cp runs/samples/$g-cfg${GRID_CFG:-2}/grid.png "$RES/grid-$g.png" 2>/dev/null
  done
  log "sampled"
fi
tar czf "$OUT/logs-$PHASE.tgz" -C "$RES" --exclude='samples-*' --exclude='grid-*' .
for g in $GENERATORS; do
  ls "$RES"/samples-$g-* > /dev/null 2>&1 && tar czf "$OUT/samples-$g.tgz" -C "$RES" $(cd "$RES" && ls | grep -e "-$g")
done
ls -la "$OUT"
