#!/usr/bin/env bash
# Rebuilds the evaluator's expected figures from the official CoNLL 2018 evaluator
# (`udeval` of the PyPI package udtools): writes the perturbed system files, scores each
# pair with `udeval -v` and `udeval -v -c`, and stores the printed tables as fixtures.
# The package is installed in a throwaway virtual environment and not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
python3 -m venv "$venv"
"$venv/bin/pip" install -q udtools==0.2.9
pairs=$(mktemp -d)
cargo run -q --release -p tatra-eval --example make_eval_pairs -- "$pairs"
out=crates/tatra-eval/tests/fixtures/udeval
mkdir -p "$out"
for sys in "$pairs"/*.system.conllu; do
  name=$(basename "$sys" .system.conllu)
  gold=$(cat "$pairs/$name.gold")
  "$venv/bin/udeval" -v "$gold" "$sys" > "$out/$name.txt"
  "$venv/bin/udeval" -v -c "$gold" "$sys" > "$out/$name.counts.txt"
  echo "$name"
done
rm -rf "$venv" "$pairs"
