#!/usr/bin/env bash
# Train (or resume) the posdep packages of the given treebanks on this machine's CPU and
# record their dev/test scores: the recipe behind models/<treebank>/posdep.zip.
#
#   scripts/train-posdep.sh ta_ttb cs_cltt …      # TATRA_BIN=path/to/tatra to pick a binary
#
# A package that exists is skipped; a checkpoint (OUT.ckpt) is resumed. Logs go to
# docs/train-logs/<treebank>.posdep.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${TATRA_SHARED:-../shared}
BIN=${TATRA_BIN:-target/release/tatra}
MAX_MINUTES=${MAX_MINUTES:-30}
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
    *) echo "unknown treebank $tb" >&2; exit 2;;
  esac
  out=models/$tb/posdep.zip
  if [[ -f $out ]]; then echo "$out exists, skipped"; continue; fi
  mkdir -p models/$tb docs/train-logs
  resume=(); [[ -d $out.ckpt ]] && resume=(--resume)
  log=docs/train-logs/$tb.posdep.log
  start=$(date +%s)
  "$BIN" train posdep --train "$SHARED/ud/$ud/$tb-ud-train.conllu" --dev "$SHARED/ud/$ud/$tb-ud-dev.conllu" \
    --out "$out" --lang "$lang" --treebank "$tb" --licence "$lic" --lr 3e-3 --batch-tokens 512 \
    --max-epochs 30 --max-minutes "$MAX_MINUTES" "${resume[@]}" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' >> "$log"
  echo "wall $(( $(date +%s) - start )) s (2-core CPU)" >> "$log"
  "$BIN" train posdep-scores --package "$out" --dev "$SHARED/ud/$ud/$tb-ud-dev.conllu" \
    --test "$SHARED/ud/$ud/$tb-ud-test.conllu" >> "$log" 2>&1
done
