#!/usr/bin/env bash
# GPU benchmarks in one device call: structured Λ24 search, quantizer forward+backward, tokenizer step time.
# Usage (device tool, carry .whl and .devdata): bash scripts/device/bench.sh
source scripts/device/setup.sh
RES=/tmp/results; mkdir -p "$RES"
slq bench-search --device cuda --tokens 1048576 --reference-tokens 1048576 --sweep --out "$RES/search" 2>&1 \
  | grep -v "tiled fp32:" | tee "$RES/search.log" || echo "bench-search FAILED"
slq bench-quantizers --device cuda --tokens 65536 --out "$RES/quantizers" 2>&1 | tee "$RES/quantizers.log" || echo "bench-quantizers FAILED"
# Training step time, leech24 against bsq: same model, batch and data; each run alone on the GPU,
# alternating twice so that drift of the machine affects both alike.
for round in 1 2; do
  for q in leech24 bsq; do
    slq train-tokenizer --config configs/ablation-vits-$q.yaml --set train.steps=${STEPTIME_STEPS:-150} \
      --set train.log_every=25 --set eval.every=100000 --set train.checkpoint_every=100000 \
      --set train.progress_bar=false --set data.train_dir="$SLQ_DATA/photos" \
      --set eval.data_dir="$SLQ_DATA/kodak" --set train.run_dir="runs/steptime-$q-$round" 2>&1 | tail -3
    cp runs/steptime-$q-$round/train.csv "$RES/steptime-$q-$round.csv"
  done
done
tar czf "$OUT/bench.tgz" -C "$RES" .
