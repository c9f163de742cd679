#!/usr/bin/env bash
# Train (or resume) the packages of one stage for the given treebanks on this machine
# and record their dev/test scores: the recipe behind models/<treebank>/<stage>.zip.
#
#   scripts/train.sh posdep ta_ttb cs_cltt …
#   scripts/train.sh tokenize fr_sequoia …
#
# TATRA_BIN picks the binary (default target/release/tatra), MAX_MINUTES caps each run,
# OUT_ROOT is where packages go (default models; another folder trains beside the shipped
# package, to compare before replacing it), DEPTH the encoder layers read (default 8; 0 for
# all 12, to resume a checkpoint of an older full-depth run: a checkpoint only resumes
# with the adapter settings it was trained with), SUFFIXES the posdep suffix lengths
# embedded (default 4; 0 to resume a checkpoint trained without them; each package
# records its exact command),
# DISTANCE the posdep arc-distance bias (default 10) and LSTM the width of the posdep
# word-level BiLSTM whose output alone feeds the heads (default 200, Slovak 160;
# --lstm-only): 0 for
# either rebuilds or resumes a package trained before session 8, when they joined the
# recipe (the shipped Tamil package appends the BiLSTM output to the word vectors, without
# --lstm-only: its recorded command rebuilds it).
# Chinese-GSD, Japanese-GSD (and since session 11 Danish-DDT) tokenizers train on 500-odd
# dev sentences: 20 updates an epoch at the default batch size, too few to fit them, so
# they take 256-unit batches (their packages before session 9 were trained without);
# Chinese since session 11 keeps the encoder's
# multi-character pieces whole where the training text never cuts inside them
# (--whole-pieces), for a fixed number of epochs chosen on a split of the dev file
# (Japanese keeps the shipped layout and schedule: the layout measured no better on it).
# EMA scores and ships an exponential moving average of the weights with that decay per
# step (`--ema`, session 12). Default: 0.99 for the tokenizers retrained with it in session
# 12 (hu_szeged, tr_imst, en_lines, cs_cltt, fr_sequoia: better on dev), off (0) for the
# others, whose shipped packages were trained without it and measured no better with it.
# CONTINUE=1 (posdep; with OUT_ROOT elsewhere, then scripts/consider.py) trains on from the
# shipped models/TB/posdep.zip (`--init`) at --lr 1e-3 with EMA 0.998 for up to EPOCHS (12)
# epochs, patience 3: the second step of the shipped Greek (10 epochs), Hungarian, Czech
# and Slovak (10) posdep packages, whose first runs had been stopped by their time budgets.
# ALSO_TRAIN adds training files (paths under $SHARED/ud, space-separated; `--also-train`),
# e.g. another treebank's usable dev file of the same language; LICENCE then names every
# licence involved. Czech-CLTT posdep adds Czech-FicTree dev by default (ALSO_TRAIN= for
# none).
# TRANSFER (posdep; paths under $SHARED/ud, space-separated) adds another language's or
# annotation's training files with `--transfer-train`: their sentences train only the
# labels the treebank's own files have (session 16); TRANSFER_SENTENCES caps each at that
# many sentences, evenly spaced (`--transfer-sentences`). The shipped Czech-CLTT posdep
# package is `scripts/train.sh posdep cs_cltt`, then
# `TRANSFER=UD_Slovak-SNK/sk_snk-ud-train.conllu TRANSFER_SENTENCES=2000 CONTINUE=1
# OUT_ROOT=target/x LICENCE=… scripts/train.sh posdep cs_cltt` and scripts/consider.py.
# Slovak-SNK's the same with TRANSFER='UD_Czech-CLTT/cs_cltt-ud-train.conllu
# UD_Czech-FicTree/cs_fictree-ud-dev.conllu' (no cap; session 16 ran it with MAX_MINUTES=38,
# session 17 resumed the checkpoint with MAX_MINUTES=45: early-stopped at epoch 11, best 8).
# Session 20 trained on from it: TRANSFER_OUTPUTS=upos,feats,deprel TRANSFER='the two Czech
# files UD_Serbian-SET/sr_set-ud-dev.conllu UD_Russian-GSD/ru_gsd-ud-dev.conllu' CONTINUE=1
# MAX_MINUTES=75 (12 epochs; docs/train-logs/sk_snk.posdep.log has the exact command).
# TRANSFER_OUTPUTS (comma-separated, of upos,xpos,feats,lemma,deprel; default all) is
# `--transfer-outputs`: what the transfer sentences train besides the arcs (session 18).
# WORD_DROP (posdep; default none) is `--word-drop`: in training each word's cached lower
# states become the mean state with that probability (session 14).
# INIT (with CONTINUE=1) trains on from another package than the shipped one (e.g. a
# new seed-ensemble member).
# SEED (default: the binary's, 42) is `--seed`: another member of a posdep seed ensemble
# (session 37; `tatra train posdep-ensemble`).
# ADAPTER_LAYERS (default: the binary's, 6) is `--adapter-layers`: adapters in the top K
# of the DEPTH layers read, the layers below cached (session 43's K table).
# EPOCHS also raises the 30-epoch cap (patience 5) of a posdep run from scratch (session 44).
# DROP_FINAL_PUNCT (tokenize; default none) drops the final punctuation of that share of
# the training sentences, to learn sentence ends without it (headings).
# A package that exists is skipped unless its checkpoint (OUT.ckpt) is there, which is
# resumed (a run cut by MAX_MINUTES keeps it; an early-stopped one removes it). Logs go to
# docs/train-logs/<treebank>.<stage>.log. Chinese-GSD, Japanese-GSD and Danish-DDT have no
# train file here: they train on their dev file, which cannot tell when to stop, so their
# posdep packages (and the Chinese and Danish tokenizers) train for a fixed number of
# epochs (EPOCHS overrides it, and the 20-epoch cap of the other tokenizers), the best one of the same recipe trained on a
# split of that file (scripts/dev-split.py) and stopped on the held-out part.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${TATRA_SHARED:-../shared}
BIN=${TATRA_BIN:-target/release/tatra}
MAX_MINUTES=${MAX_MINUTES:-40}
OUT_ROOT=${OUT_ROOT:-models}
DEPTH=${DEPTH:-8}
SUFFIXES=${SUFFIXES:-4}
DISTANCE=${DISTANCE:-10}
CONTINUE=${CONTINUE:-0}
stage=$1; shift
lr=3e-3; [[ $stage == posdep && $CONTINUE == 1 ]] && lr=1e-3
case $stage in
  posdep) extra=(--lr $lr --batch-tokens 512 --mix --depth $DEPTH --first-last --suffixes $SUFFIXES --distance $DISTANCE);;
  tokenize) extra=(--lr 3e-3 --depth $DEPTH);;
  *) echo "unknown stage $stage (posdep, tokenize)" >&2; exit 2;;
esac
for tb in "$@"; do
  case $tb in
    ta_ttb) ud=UD_Tamil-TTB; lang=tamil; lic="CC BY-NC-SA 3.0";;
    hu_szeged) ud=UD_Hungarian-Szeged; lang=hungarian; lic="CC BY-NC-SA 3.0";;
    cs_cltt) ud=UD_Czech-CLTT; lang=czech; lic="CC BY-SA 4.0";;
    vi_vtb) ud=UD_Vietnamese-VTB; lang=vietnamese; lic="CC BY-SA 4.0";;
    el_gdt) ud=UD_Greek-GDT; lang=greek; lic="CC BY-NC-SA 3.0";;
    tr_imst) ud=UD_Turkish-IMST; lang=turkish; lic="CC BY-NC-SA 4.0";;
    en_lines) ud=UD_English-LinES; lang=english; lic="CC BY-NC-SA 4.0";;
    fr_sequoia) ud=UD_French-Sequoia; lang=french; lic="LGPL-LR";;
    sk_snk) ud=UD_Slovak-SNK; lang=slovak; lic="CC BY-SA 4.0";;
    zh_gsd) ud=UD_Chinese-GSD; lang=chinese; lic="CC BY-SA 4.0";;
    ja_gsd) ud=UD_Japanese-GSD; lang=japanese; lic="CC BY-SA 4.0";;
    da_ddt) ud=UD_Danish-DDT; lang=danish; lic="CC BY-SA 4.0";;
    *) echo "unknown treebank $tb" >&2; exit 2;;
  esac
  args=("${extra[@]}")
  ema=${EMA:-}
  if [[ -z $ema ]]; then
    ema=0
    [[ $stage == tokenize && " hu_szeged tr_imst en_lines cs_cltt fr_sequoia " == *" $tb "* ]] && ema=0.99
    [[ $stage == posdep && $CONTINUE == 1 ]] && ema=0.998
  fi
  [[ $ema != 0 ]] && args+=(--ema "$ema")
  [[ -n ${SEED:-} ]] && args+=(--seed "$SEED")
  [[ -n ${ADAPTER_LAYERS:-} ]] && args+=(--adapter-layers "$ADAPTER_LAYERS")
  also=${ALSO_TRAIN-}
  # Czech-CLTT posdep (session 13): its 467 training sentences plus Czech-FicTree's dev
  # file (1,309 sentences; FicTree's test file stays held out), EMA 0.998 from scratch.
  if [[ $stage == posdep && $tb == cs_cltt && -z ${ALSO_TRAIN+x} ]]; then
    also=UD_Czech-FicTree/cs_fictree-ud-dev.conllu
    lic="CC BY-SA 4.0 (cs_cltt train); CC BY-NC-SA 4.0 (cs_fictree dev)"
    [[ -z ${EMA:-} && $ema == 0 ]] && args+=(--ema 0.998)
  fi
  for f in $also; do args+=(--also-train "$SHARED/ud/$f"); done
  for f in ${TRANSFER:-}; do args+=(--transfer-train "$SHARED/ud/$f"); done
  [[ -n ${TRANSFER_SENTENCES:-} ]] && args+=(--transfer-sentences "$TRANSFER_SENTENCES")
  [[ -n ${TRANSFER_OUTPUTS:-} ]] && args+=(--transfer-outputs "$TRANSFER_OUTPUTS")
  lic=${LICENCE:-$lic}
  if [[ $stage == posdep ]]; then
    # Slovak's 958 XPOS tags make its heads large: a 200-wide BiLSTM gives 8.1 MB, over
    # the 8 MB budget, so Slovak takes 160 (6.9 MB) unless LSTM says otherwise.
    lstm=${LSTM:-200}; [[ $tb == sk_snk && -z ${LSTM:-} ]] && lstm=160
    args+=(--lstm "$lstm"); [[ $lstm != 0 ]] && args+=(--lstm-only)
    [[ -n ${WORD_DROP:-} ]] && args+=(--word-drop "$WORD_DROP")
    if [[ $CONTINUE == 1 ]]; then
      args+=(--init "${INIT:-models/$tb/posdep.zip}" --max-epochs ${EPOCHS:-12} --patience 3)
    else
      # Trained on their dev file (no train file here): a fixed number of epochs, the best
      # one of the same recipe on a split of that file (scripts/dev-split.py; session 11).
      case $tb in
        da_ddt) args+=(--max-epochs ${EPOCHS:-17} --patience 100);;
        zh_gsd) args+=(--max-epochs ${EPOCHS:-14} --patience 100);;
        ja_gsd) args+=(--max-epochs ${EPOCHS:-21} --patience 100);;
        *) args+=(--max-epochs ${EPOCHS:-30} --patience 5);;
      esac
    fi
  fi
  if [[ $stage == tokenize ]]; then
    case $tb in
      # Pieces kept whole unless the training text cuts inside them, at most 2 characters;
      # epochs fixed, chosen on a 400/100 split of the dev file (scripts/dev-split.py),
      # since the dev file is the training data.
      zh_gsd) args+=(--batch-tokens 256 --whole-pieces --whole-max-chars 2 --max-epochs 11 --patience 100);;
      ja_gsd) args+=(--batch-tokens 256 --max-epochs 40 --patience 3);;
      # Danish-DDT also trains on its dev file: 256-unit batches, the epochs of a split.
      da_ddt) args+=(--batch-tokens 256 --max-epochs 3 --patience 100);;
      *) args+=(--batch-tokens 1024 --max-epochs ${EPOCHS:-20} --patience 3);;
    esac
    [[ -n ${DROP_FINAL_PUNCT:-} ]] && args+=(--drop-final-punct "$DROP_FINAL_PUNCT")
  fi
  dir=$SHARED/ud/$ud
  train=$dir/$tb-ud-train.conllu
  [[ -f $train ]] || train=$dir/$tb-ud-dev.conllu
  out=$OUT_ROOT/$tb/$stage.zip
  if [[ -f $out && ! -d $out.ckpt && ! -f $out.ckpt ]]; then echo "$out exists, skipped"; continue; fi
  mkdir -p "$OUT_ROOT/$tb" docs/train-logs
  resume=(); [[ -e $out.ckpt ]] && resume=(--resume)
  log=docs/train-logs/$tb.$stage.log
  start=$(date +%s)
  "$BIN" train "$stage" --train "$train" --dev "$dir/$tb-ud-dev.conllu" \
    --out "$out" --lang "$lang" --treebank "$tb" --licence "$lic" "${args[@]}" \
    --max-minutes "$MAX_MINUTES" "${resume[@]}" 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v -e '^\s*$' -e 'batches,' >> "$log"
  echo "wall $(( $(date +%s) - start )) s ($(nproc)-core CPU)" >> "$log"
  "$BIN" train "$stage-scores" --package "$out" --dev "$dir/$tb-ud-dev.conllu" \
    --test "$dir/$tb-ud-test.conllu" >> "$log" 2>&1
  # Keep the checkpoint when the run stopped on its time budget (run again to go on).
  if grep -E "early stop|stopping: time budget|^train:" "$log" | tail -1 | grep -q "early stop"; then rm -rf "$out.ckpt"; fi
done
