#!/usr/bin/env bash
# The quantizer ablation of docs/results/tokenizer-ablation.md in one device call: the five ViT-S/8 runs
# (same steps, seed, batch and data order) share the GPU, then each is evaluated on Kodak.
# Usage (device tool, carry .whl and .devdata): STEPS=N bash scripts/device/ablation.sh
source scripts/device/setup.sh
STEPS=${STEPS:-2000}
QUANTIZERS=${QUANTIZERS:-"leech24 bsq random fibonacci fsq"}
RES=/tmp/results; mkdir -p "$RES"
train_and_eval() {
  local q=$1 run=runs/ablation-$1
  slq train-tokenizer --config configs/ablation-vits-$q.yaml --set train.steps=$STEPS \
    --set data.num_workers=3 --set train.progress_bar=false --set train.log_every=50 \
    --set eval.every=$((STEPS / 2)) --set train.checkpoint_every=$STEPS \
    --set data.train_dir="$SLQ_DATA/photos" --set eval.data_dir="$SLQ_DATA/kodak" \
    --set train.run_dir=$run > "$RES/train-$q.log" 2>&1 || { echo "train $q FAILED"; tail -20 "$RES/train-$q.log"; return; }
  cp $run/train.csv "$RES/train-$q.csv"; cp $run/eval.csv "$RES/periodic-eval-$q.csv"
  slq eval-tokenizer $run --data "$SLQ_DATA/kodak" --crop 256 --lpips-nets alex --no-fd --save-images \
    --out "$RES/$q-256" > "$RES/eval-256-$q.log" 2>&1 || echo "eval 256 $q FAILED"
  slq eval-tokenizer $run --data "$SLQ_DATA/kodak" --crop full --lpips-nets alex --no-fd \
    --out "$RES/$q-full" > "$RES/eval-full-$q.log" 2>&1 || echo "eval full $q FAILED"
  echo "done $q"
}
for q in $QUANTIZERS; do train_and_eval $q & done
wait
for q in $QUANTIZERS; do
  echo "== $q"; tail -2 "$RES/train-$q.csv"
  python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['metrics']; print({k: m[k] for k in ('psnr','ssim','ms_ssim','lpips_alex','codebook_used_fraction')})" "$RES/$q-256/metrics.json" 2>/dev/null
  tar czf "$OUT/recon-$q.tgz" -C "$RES/$q-256" recon
done
first=$(echo $QUANTIZERS | cut -d' ' -f1)
tar czf "$OUT/ref.tgz" -C "$RES/$first-256" ref
tar czf "$OUT/results.tgz" -C "$RES" --exclude=recon --exclude=ref .
