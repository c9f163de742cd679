#!/usr/bin/env bash
# Train (or resume) the NER packages and record their dev/test scores: the recipe behind
# models/<treebank>/ner.zip. English trains on UNER English-EWT dev (its test is held
# out: evaluated only) and ships beside the English-LinES models. Slovak trains on its own
# train file plus the other UNER training data here (Danish train, English-EWT dev:
# cross-lingual transfer through the shared encoder); its own dev file chooses the epoch.
# Danish trains on its own data (ALSO=1 adds the others, as measured). OUT_ROOT (default
# models) trains beside the shipped packages. LSTM (default 200) is the width of the
# token-level BiLSTM before the tag classifier (since session 8; 0 rebuilds the packages
# trained before it, as each package's recorded command says). DEPTH (default 0: all 12
# layers) makes the tagger read the encoder's layer DEPTH, adapters in the 6 below it
# (ADAPTER_LAYERS=K: in the K below it, `--adapter-layers`; session 44).
# CRF=1 trains a linear-chain CRF over the BiLSTM's tag scores (`--crf`, session 15):
# the default for Slovak and Danish, whose shipped packages have one (CRF=0 rebuilds the
# earlier ones); English keeps none (its epochs were chosen without it). SEED seeds the
# weights and the batch order: default 42. Danish and Slovak ship seed ensembles
# (sessions 19-20; Danish five members since session 39): SEEDS (Danish default "7 42 11 5 21", Slovak "42 7 3") trains one package per
# seed under $OUT_ROOT/<treebank>/seed<S>/ and joins them with `tatra train ner-ensemble`
# into $OUT_ROOT/<treebank>/ner.zip (members' tag scores and CRF transitions averaged; each
# set was the best on dev of those measured, docs/models.md). SEED=S trains one seed alone.
# Q4=1 joins the members in 4-bit weights (`ner-ensemble --q4`): the default for Danish,
# whose ensemble has five members since session 39; Slovak keeps f16 (Q4=0).
#
#   scripts/train-ner.sh sk_snk da_ddt en
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${TATRA_SHARED:-../shared}
BIN=${TATRA_BIN:-target/release/tatra}
MAX_MINUTES=${MAX_MINUTES:-30}
OUT_ROOT=${OUT_ROOT:-models}
LSTM=${LSTM:-200}
DEPTH=${DEPTH:-0}
U=$SHARED/uner
# Trains (or resumes) one package with seed $1 (empty: the trainer's default) into $2.
train_one() {
  local seed=$1 out=$2
  if [[ -f $out && ! -e $out.ckpt ]]; then echo "$out exists, skipped"; return; fi
  mkdir -p "$(dirname "$out")"
  local resume=(); [[ -e $out.ckpt ]] && resume=(--resume)
  # English: dev is also the training file, so early stopping cannot use it: fixed epochs,
  # the best of the recipe trained on a 1600/401 split of it (scripts/dev-split.py; session 11).
  local extra=(--patience 3); [[ $what == en ]] && extra=(--patience 100 --max-epochs ${EPOCHS:-10})
  [[ $DEPTH != 0 ]] && extra+=(--depth "$DEPTH")
  [[ -n ${ADAPTER_LAYERS:-} ]] && extra+=(--adapter-layers "$ADAPTER_LAYERS")
  local crf=${CRF:-1}; [[ $what == en && -z ${CRF:-} ]] && crf=0
  [[ $crf == 1 ]] && extra+=(--crf)
  [[ ${CONTEXT:-0} != 0 ]] && extra+=(--context "$CONTEXT")
  [[ -n $seed ]] && extra+=(--seed "$seed")
  "$BIN" train ner --train "$SHARED/uner/$train" --dev "$SHARED/uner/$dev" --out "$out" --lang "$lang" \
    --treebank "$tb" --licence "CC BY-SA 4.0" --lr 3e-3 --batch-tokens "${BATCH_TOKENS:-1024}" --lstm "$LSTM" --max-minutes "$MAX_MINUTES" \
    "${also[@]}" "${extra[@]}" "${resume[@]}" 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v -e '^\s*$' -e 'batches,' >> "$log"
  "$BIN" train ner-scores --package "$out" --dev "$SHARED/uner/$dev" --test "$SHARED/uner/$test" >> "$log" 2>&1
  # Keep the checkpoint when the run stopped on its time budget (run again to go on).
  if grep -E "early stop|stopping: time budget|^train:" "$log" | tail -1 | grep -q "early stop"; then rm -rf "$out.ckpt"; fi
}
for what in "$@"; do
  case $what in
    sk_snk) d=UNER_Slovak-SNK; tb=sk_snk; lang=slovak; train=$d/sk_snk-ud-train.iob2; dev=$d/sk_snk-ud-dev.iob2; test=$d/sk_snk-ud-test.iob2
      also=(--also-train "$U/UNER_Danish-DDT/da_ddt-ud-train.iob2" --also-train "$U/UNER_English-EWT/en_ewt-ud-dev.iob2");;
    da_ddt) d=UNER_Danish-DDT; tb=da_ddt; lang=danish; train=$d/da_ddt-ud-train.iob2; dev=$d/da_ddt-ud-dev.iob2; test=$d/da_ddt-ud-test.iob2; also=()
      # Danish with the Slovak train and English dev files too (ALSO=1) measured no better
      # (docs/models.md): the shipped package trains on Danish alone.
      [[ ${ALSO:-0} == 1 ]] && also=(--also-train "$U/UNER_Slovak-SNK/sk_snk-ud-train.iob2" --also-train "$U/UNER_English-EWT/en_ewt-ud-dev.iob2");;
    en) d=UNER_English-EWT; tb=en_lines; lang=english; train=$d/en_ewt-ud-dev.iob2; dev=$d/en_ewt-ud-dev.iob2; test=$d/en_ewt-ud-test.iob2; also=();;
    *) echo "unknown: $what (sk_snk, da_ddt, en)" >&2; exit 2;;
  esac
  out=$OUT_ROOT/$tb/ner.zip
  log=docs/train-logs/$tb.ner.log; mkdir -p docs/train-logs
  seeds=${SEED:-}; [[ $what == da_ddt && -z $seeds ]] && seeds=${SEEDS:-7 42 11 5 21}
  [[ $what == sk_snk && -z $seeds ]] && seeds=${SEEDS:-42 7 3}
  if [[ $seeds == *" "* ]]; then
    # An ensemble: one package per seed, then joined.
    if [[ -f $out && ! -e $out.ckpt ]]; then echo "$out exists, skipped"; continue; fi
    members=()
    for s in $seeds; do train_one "$s" "$OUT_ROOT/$tb/seed$s/ner.zip"; members+=("$OUT_ROOT/$tb/seed$s/ner.zip"); done
    for m in "${members[@]}"; do [[ -e $m.ckpt ]] && { echo "$m stopped on its time budget: run again to go on" >&2; exit 1; }; done
    q4=${Q4:-}; [[ -z $q4 && $what == da_ddt ]] && q4=1
    quant=(); [[ $q4 == 1 ]] && quant=(--q4)
    "$BIN" train ner-ensemble "${quant[@]}" --out "$out" "${members[@]}" >> "$log" 2>&1
    "$BIN" train ner-scores --package "$out" --dev "$SHARED/uner/$dev" --test "$SHARED/uner/$test" >> "$log" 2>&1
  else
    train_one "$seeds" "$out"
  fi
done
