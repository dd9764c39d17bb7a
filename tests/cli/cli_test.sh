#!/usr/bin/env bash
# tests/cli/cli_test.sh CTNN CASE [LOADER]: end-to-end tests of the `ctnn` command-line tool (src/cli), one
# case per meson test. Data from $CTNN_DATA (the repo's data/). Each case runs in a fresh temporary
# directory and fails with a message saying what differed.
set -uo pipefail
CTNN=$(realpath "$1")
CASE=$2
LOADER=${3:+$(realpath "$3")}  # model_file: tests/cli/load_tool_model
DATA=${CTNN_DATA:?CTNN_DATA must point at the repo data/ directory}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

fail() { echo "FAIL ($CASE): $*" >&2; exit 1; }
# expect CODE CMD...: runs CMD, its stdout in out.txt and stderr in err.txt, checks the exit code.
expect() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local rc=$?
  [[ $rc == "$want" ]] || { cat out.txt err.txt >&2; fail "exit code $rc, expected $want: $*"; }
}
contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain '$2'"; }; }
lacks() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 contains '$2'"; }; }
accuracy() { sed -n 's/^test accuracy //p' "$1"; }

# The digits run of the README: long enough (many short epochs) to be interrupted mid-run.
EPOCHS=300
TRAIN_DIGITS=("$CTNN" train --dataset digits --data-dir "$DATA" --epochs $EPOCHS --seed 7 --optimizer momentum
  --lr 0.02 --schedule cosine --progress lines)

# interrupt SIGNAL: starts a checkpointing run, waits for its first checkpoint (plus a random
# delay), sends SIGNAL, then resumes from the checkpoint; the resumed run's test accuracy and final
# weights must equal the uninterrupted run's, bit for bit.
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
interrupt() {
  local sig=$1
  if [[ ! -e full.json ]]; then  # the uninterrupted run, once per case (its duration in ms kept)
    local t0; t0=$(date +%s%N)
    expect 0 "${TRAIN_DIGITS[@]}" --save full.json
    echo $(( ($(date +%s%N) - t0) / 1000000 )) > full_ms.txt
    accuracy out.txt > full_acc.txt
  fi
  local full_acc; full_acc=$(cat full_acc.txt)
  [[ -n $full_acc ]] || fail "no test accuracy printed"
  # A random point in the first 60% of a run's duration (a fixed range missed the end of the run
  # on a fast core). A run slowed by a busy machine can still end first: then again, with half the
  # window, up to three times.
  local span=$(( $(cat full_ms.txt) * 6 / 10 + 1 )) pid rc
  for _ in 1 2 3; do
    rm -f run.ckpt
    "${TRAIN_DIGITS[@]}" --checkpoint run.ckpt > run.out 2> run.err &
    pid=$!
    for _ in $(seq 1000); do [[ -e run.ckpt ]] && break; sleep 0.01; done
    [[ -e run.ckpt ]] || fail "no checkpoint written after 10 s"
    sleep_ms $(( (RANDOM * 32768 + RANDOM) % span ))
    kill -s "$sig" $pid 2>/dev/null
    wait $pid
    rc=$?
    [[ $rc != 0 ]] && break  # a run that ended before the signal exits 0
    span=$(( span / 2 + 1 ))
  done
  if [[ $sig == INT || $sig == TERM ]]; then
    [[ $rc == 130 ]] || { cat run.out run.err >&2; fail "SIG$sig: exit code $rc, expected 130"; }
    contains run.err "continue with --resume run.ckpt"
  else
    [[ $rc == 137 ]] || fail "SIGKILL: exit status $rc, expected 137 (killed)"
  fi
  expect 0 "${TRAIN_DIGITS[@]}" --resume run.ckpt --checkpoint run.ckpt --save resumed.json
  contains out.txt "resuming run.ckpt"
  local first; first=$(sed -n 's/^epoch \([0-9]*\)\/.*/\1/p' out.txt | head -1)
  [[ -n $first && $first -gt 1 && $first -le $EPOCHS ]] || fail "the resumed run started at epoch '$first'"
  local res_acc; res_acc=$(accuracy out.txt)
  echo "SIG$sig at epoch $first of $EPOCHS: uninterrupted test accuracy $full_acc, resumed $res_acc"
  [[ $res_acc == "$full_acc" ]] || fail "resumed accuracy $res_acc != uninterrupted $full_acc"
  cmp full.json resumed.json || fail "resumed final weights differ from the uninterrupted run's"
}

# early_stop_resume CMD...: CMD (a `ctnn train` command line without --epochs) with a validation
# split and patience 4 stops early, saving the best epoch's parameters (eval of the saved model gives the
# printed test accuracy); cut one epoch before that stop (--epochs S-1 --checkpoint) and resumed, it
# stops at the same epoch with the same best epoch and saves the same bytes: the checkpoint carries
# the early-stopping record (best epoch, its loss and parameters, epochs waited).
early_stop_resume() {
  local cmd=("$@" --validation-split 0.2 --patience 4)
  expect 0 "${cmd[@]}" --epochs 100 --save es_full.json
  contains out.txt "held out for validation"
  contains out.txt "val_loss"
  grep -q "test_loss" out.txt && fail "with --validation-split the test set is not evaluated every epoch"
  contains out.txt "(its parameters restored)"
  local msg best stop acc
  msg=$(grep -o "did not improve for 4 epochs; best [^ ]* at epoch [0-9]*" out.txt | head -1)
  [[ -n $msg ]] || { cat out.txt >&2; fail "no early stop in 100 epochs"; }
  best=${msg##* }
  stop=$(sed -n 's/^epoch \([0-9]*\)\/100 .*/\1/p' out.txt | tail -1)
  [[ -n $best && -n $stop && $stop == $((best + 4)) && $best -gt 1 ]] ||
    fail "best epoch '$best', stopped after epoch '$stop' (want best > 1, stop = best + 4)"
  acc=$(accuracy out.txt)
  [[ $(grep -c '^test accuracy' out.txt) == 1 && $(grep -c '^val accuracy' out.txt) == 1 ]] ||
    fail "expected one val accuracy and one test accuracy line"
  expect 0 "$CTNN" eval --model es_full.json --dataset digits --data-dir "$DATA"
  [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "eval of the saved model is not the printed test accuracy $acc"
  expect 0 "${cmd[@]}" --epochs $((stop - 1)) --checkpoint es.ckpt
  contains out.txt "ran the $((stop - 1)) epochs requested"
  expect 0 "${cmd[@]}" --epochs 100 --resume es.ckpt --save es_resumed.json
  contains out.txt "$msg"
  [[ $(sed -n 's/^epoch \([0-9]*\)\/100 .*/\1/p' out.txt | tr '\n' ' ') == "$stop " ]] ||
    fail "the resumed run should run epoch $stop alone"
  cmp es_full.json es_resumed.json || fail "the resumed run saved other parameters than the uninterrupted one"
  echo "early stopping: best epoch $best, stopped after $stop, resumed from epoch $((stop - 1)) alike"
}

case $CASE in
  resume_sigint) interrupt INT ;;
  resume_sigterm) interrupt TERM ;;
  resume_sigkill)
    # Several kills at random points (some land inside a checkpoint write): every surviving
    # checkpoint loads and the resumed run ends where the uninterrupted one does.
    for _ in 1 2 3; do interrupt KILL; done ;;

  help)
    expect 0 "$CTNN" --help
    contains out.txt "Usage:"; contains out.txt "train"; contains out.txt "Exit codes"
    expect 0 "$CTNN" train --help
    contains out.txt "--checkpoint"; contains out.txt "--resume"; contains out.txt "--optimizer"
    contains out.txt "--data-parallel"; contains out.txt "--compress"
    expect 0 "$CTNN" eval --help
    contains out.txt "--model"
    expect 0 "$CTNN" predict --help
    contains out.txt "--out"
    expect 0 "$CTNN" --version
    contains out.txt "ctnn "
    expect 0 "$CTNN" presets
    contains out.txt "digits" ;;

  exit_codes)
    # 2: usage errors
    expect 2 "$CTNN"
    expect 2 "$CTNN" train --dataset digits --bogus-flag
    contains err.txt "ctnn: error: unknown option --bogus-flag for train; ctnn train --help lists them"
    # a mistyped option or command is named, with the closest known one
    expect 2 "$CTNN" train --dataset digits --epoch 5
    contains err.txt "ctnn: error: unknown option --epoch for train (did you mean --epochs?)"
    expect 2 "$CTNN" train --dataset digits -lr 0.1
    contains err.txt "unknown option -lr for train (did you mean --lr?)"
    expect 2 "$CTNN" eval --model m.json --dataset iris --data-dir=x --labelcolumn y
    contains err.txt "unknown option --labelcolumn for eval (did you mean --label-column?)"
    expect 2 "$CTNN" trian --dataset digits
    contains err.txt 'ctnn: error: unknown command "trian" (did you mean train?)'
    expect 2 "$CTNN" train --dataset digits --optimizer sgdx
    expect 2 "$CTNN" train --dataset digits --epochs 0
    expect 2 "$CTNN" train --dataset digits --lr abc
    contains err.txt "--lr: not a number: abc"
    # numeric flags: the bound and the value given, never CLI11's 300-digit range
    flag_error() {  # flag_error "FLAG VALUE" MESSAGE
      # shellcheck disable=SC2086
      expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" $1
      contains err.txt "$2"
      [[ $(head -1 err.txt | wc -c) -lt 80 ]] || fail "$1: a long message: $(head -1 err.txt)"
    }
    flag_error "--lr 0" "--lr: must be > 0, got 0"
    flag_error "--lr -1" "--lr: must be > 0, got -1"
    flag_error "--lr inf" "--lr: must be > 0, got inf"
    flag_error "--gamma 0" "--gamma: must be > 0, got 0"
    flag_error "--momentum 1" "--momentum: must be in [0, 1), got 1"
    # a flag the optimiser or schedule does not read is refused, not ignored
    flag_error "--optimizer adam --momentum 0.5" "--momentum: not used by --optimizer adam (for momentum, nesterov, rmsprop)"
    flag_error "--optimizer sgd --momentum 0.5" "--momentum: not used by --optimizer sgd"
    flag_error "--optimizer adagrad --eps 0.1" "--eps: not used by --optimizer adagrad (for rmsprop, adam, adamw)"
    flag_error "--schedule none --gamma 0.5" "--gamma: not used by --schedule none (for step, exp)"
    flag_error "--schedule exp --t-max 5" "--t-max: not used by --schedule exp (for cosine)"
    flag_error "--optimizer nesterov --momentum 0" "--momentum: --optimizer nesterov needs a momentum > 0, got 0"
    flag_error "--validation-split 0.95" "--validation-split: must be in [0, 0.9], got 0.95"
    flag_error "--epochs 0" "--epochs: must be in [1, 1000000], got 0"
    flag_error "--batch 2.5" "--batch: not a whole number: 2.5"
    flag_error "--max-steps -1" "--max-steps: must be >= 0, got -1"
    flag_error "--weight-decay -0.1" "--weight-decay: must be >= 0, got -0.1"
    expect 2 "$CTNN" train --dataset digits --batch 48
    contains err.txt "batch sizes 32, 64"
    expect 2 "$CTNN" train --preset nope --dataset digits
    expect 2 "$CTNN" train --preset digits
    expect 2 "$CTNN" eval --dataset digits
    # 3: missing or malformed files, named in the message
    expect 3 "$CTNN" train --preset digits --train missing.csv
    contains err.txt "missing.csv"
    printf 'a,b,label\n1,2,0\n3,x,1\n' > bad.csv
    expect 3 "$CTNN" train --preset iris --train bad.csv
    contains err.txt "bad.csv:3:"
    expect 3 "$CTNN" train --preset digits --train "$DATA/iris_train.csv"
    contains err.txt "iris_train.csv: 4 feature columns, the network takes 64"
    expect 3 "$CTNN" train --topology missing.json --dataset iris --data-dir "$DATA"
    contains err.txt "missing.json"
    echo '{"layer_sizes": [4, 3], "activations": ["nope"]}' > bad_topology.json
    expect 3 "$CTNN" train --topology bad_topology.json --dataset iris --data-dir "$DATA"
    contains err.txt "bad_topology.json.activations[0]"
    echo '{"layer_sizes": [4, 3], "activations": ["identity"], "los": {"type": "mse_mean"}}' > typo_topology.json
    expect 3 "$CTNN" train --topology typo_topology.json --dataset iris --data-dir "$DATA"
    contains err.txt "typo_topology.json.los: unknown key (a topology has layer_sizes, activations, loss,"
    echo '{"layer_sizes": [4, 3], "activations": ["identity"], "loss": {"type": "softmax_ce_logits", "l2": 1}}' \
      > typo_loss.json
    expect 3 "$CTNN" train --topology typo_loss.json --dataset iris --data-dir "$DATA"
    contains err.txt "typo_loss.json.loss.l2: unknown key (a loss has type, class_weights, delta, l2_lambda)"
    expect 3 "$CTNN" eval --model missing.json --dataset iris --data-dir "$DATA"
    contains err.txt "missing.json"
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 2 --save iris.json --checkpoint iris.ckpt
    head -c 300 iris.json > truncated.json
    expect 3 "$CTNN" eval --model truncated.json --dataset iris --data-dir "$DATA"
    contains err.txt "truncated.json"
    sed 's/"in":4/"in":5/' iris.json > shape.json
    expect 3 "$CTNN" eval --model shape.json --dataset iris --data-dir "$DATA"
    contains err.txt "shape.json"
    # a finished run resumed has nothing to train: refused, naming the epochs (it reported accuracy nan)
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 2 --resume iris.ckpt
    contains err.txt "iris.ckpt: holds epoch 2 and --epochs 2 counts all epochs, those of the checkpoint too: nothing is left to train (give --epochs 3 or more)"
    lacks out.txt "nan"
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 1 --resume iris.ckpt
    contains err.txt "iris.ckpt: holds epoch 2 and --epochs 1 counts"
    head -c 100 iris.ckpt > truncated.ckpt
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --resume truncated.ckpt
    contains err.txt "truncated.ckpt"
    expect 3 "$CTNN" train --dataset wine --data-dir "$DATA" --epochs 4 --resume iris.ckpt
    contains err.txt "iris.ckpt"
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --seed 5 --resume iris.ckpt
    contains err.txt "another seed"
    # a resumed run continues its --log: the first run's rows, then its own
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 3 --checkpoint log.ckpt --log run.csv
    head -4 run.csv > first.csv
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 5 --checkpoint log.ckpt --log run.csv \
      --resume log.ckpt
    [[ $(head -4 run.csv) == "$(cat first.csv)" && $(cut -d, -f1 run.csv | tr '\n' ' ') == "epoch 1 2 3 4 5 " ]] ||
      fail "the resumed run's log: $(cut -d, -f1,2 run.csv | tr '\n' ' ')"
    # the flags that decide the steps are in the checkpoint: a resume with another value is refused, naming it
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --lr 0.02 --resume iris.ckpt
    contains err.txt "iris.ckpt: written with --lr 0.01, resumed with --lr 0.02"
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --optimizer adamw --resume iris.ckpt
    contains err.txt "iris.ckpt: written with --optimizer adam, resumed with --optimizer adamw"
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --optimizer sgd --resume iris.ckpt
    contains err.txt "iris.ckpt: written with --optimizer adam, resumed with --optimizer sgd"  # (not a buffer size)
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --schedule exp --resume iris.ckpt
    contains err.txt "iris.ckpt: written with --schedule none, resumed with --schedule exp"
    expect 3 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --no-standardize --resume iris.ckpt
    contains err.txt "iris.ckpt: written without --no-standardize, resumed with it"
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 4 --max-steps 50 --resume iris.ckpt
    expect 3 "$CTNN" predict --model iris.json --data "$DATA/wine_test.csv"
    contains err.txt "wine_test.csv"
    { head -3 "$DATA/iris_train.csv"; sed -n 2p "$DATA/iris_train.csv" | sed 's/,[0-9]*$/,3/'; } > bad_label.csv
    expect 3 "$CTNN" train --train bad_label.csv --preset iris --epochs 1
    contains err.txt 'bad_label.csv:4:5 (column "label"): label 3, but the network has 3 classes (0..2)'
    expect 3 "$CTNN" eval --model iris.json --data bad_label.csv
    contains err.txt 'bad_label.csv:4:5 (column "label"): label 3'
    # the label in the first column: its cell is named by that column
    awk -F, -v OFS=, 'NR == 4 {$5 = 7} {print $5, $1, $2, $3, $4}' "$DATA/iris_train.csv" > label_first.csv
    expect 3 "$CTNN" train --train label_first.csv --preset iris --epochs 1
    contains err.txt 'label_first.csv:4:1 (column "label"): label 7, but the network has 3 classes (0..2)'
    # a CSV file without its header row: the first data row is read as the header, and the message says so
    tail -n +2 "$DATA/iris_train.csv" > no_header.csv
    expect 3 "$CTNN" train --train no_header.csv --preset iris --epochs 1
    contains err.txt "no_header.csv:1: header has no label column \"label\" (found: "
    contains err.txt "; the first row is all numbers: does the file lack its header row of column names?"
    # predict on a file whose label column has another name: one column too many, and the hint names the flag
    sed '1s/label/species/' "$DATA/iris_test.csv" > species.csv
    expect 3 "$CTNN" predict --model iris.json --data species.csv
    contains err.txt "species.csv: 5 feature columns, the model takes 4 (is one of them the label? name its column with --label-column)"
    expect 0 "$CTNN" predict --model iris.json --data species.csv --label-column species
    # 1: a destination that cannot be written, refused before training (not after it), nothing left behind
    mkdir outdir
    for flag in --save --checkpoint --log; do
      expect 1 "$CTNN" train --dataset iris --data-dir "$DATA" --progress lines $flag missing/out
      contains err.txt "missing/out: cannot write (create temporary file: No such file or directory)"
      [[ ! -s out.txt ]] || fail "$flag missing/out: trained before refusing: $(cat out.txt)"
      expect 1 "$CTNN" train --dataset iris --data-dir "$DATA" --progress lines $flag outdir
      contains err.txt "outdir: cannot write (the path is a folder: Is a directory)"
    done
    expect 1 "$CTNN" predict --model iris.json --data "$DATA/iris_test.csv" --out missing/p.csv
    contains err.txt "missing/p.csv: cannot write"
    [[ -z $(ls -A outdir) ]] || fail "a refused write left files: $(ls -A outdir)"
    # 4: divergence
    expect 4 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 5 --optimizer sgd --lr 1e30
    contains err.txt "diverged"
    contains err.txt "; last finite loss "
    # --on-nan rollback: three rollbacks to the last epoch's state at half the lr each, then exit 4,
    # for a compiled preset (the Trainer) and a JSON topology (the runtime tape's loop) alike
    printf '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"]}' > iris_topology.json
    for net in "--preset iris" "--topology iris_topology.json"; do
      # shellcheck disable=SC2086
      expect 4 "$CTNN" train $net --dataset iris --data-dir "$DATA" --epochs 5 --optimizer sgd --lr 1e30 \
        --on-nan rollback --progress lines --log rb.csv
      contains out.txt "rollback 1 of 3: non-finite value at step 2"
      contains out.txt "back to the end of epoch 0 (step 0), learning rate x0.5"
      contains out.txt "rollback 3 of 3"
      contains err.txt "(after 3 rollbacks)"
      # no epoch line or log row with a NaN loss: a stopped epoch is reported only for the steps it took
      lacks out.txt "loss nan"
      lacks rb.csv "nan"
    done
    # one full-batch step at lr 1e38 (a JSON topology takes any batch; the Trainer's case is in
    # tests/optim): its loss and gradient are finite, the weights (~1e37) are not inf, but the test
    # set's loss is nan: a divergence (exit 4), not "ran the 1 epochs requested"
    expect 4 "$CTNN" train --topology iris_topology.json --batch 120 --epochs 1 --dataset iris --data-dir "$DATA" \
      --optimizer sgd --lr 1e38 --progress lines
    contains err.txt "the test loss is nan after epoch 1"
    contains err.txt "although every training step's loss and gradient were finite: the network's outputs overflow"
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --on-nan retry ;;

  eval_predict)
    expect 0 "$CTNN" train --dataset wine --data-dir "$DATA" --epochs 30 --optimizer adamw --weight-decay 0.01 \
      --lr 0.01 --schedule step --step-size 10 --gamma 0.5 --batch 64 --save wine.json --log wine.csv
    acc=$(accuracy out.txt)
    [[ $(wc -l < wine.csv) == 31 ]] || fail "the run log should have a header and 30 rows"
    expect 0 "$CTNN" eval --model wine.json --dataset wine --data-dir "$DATA"
    eval_acc=$(sed -n 's/^accuracy //p' out.txt)
    [[ $eval_acc == "$acc" ]] || fail "eval accuracy $eval_acc != training's final test accuracy $acc"
    expect 0 "$CTNN" predict --model wine.json --data "$DATA/wine_test.csv" --out pred.csv
    [[ $(head -1 pred.csv) == "class,p_0,p_1,p_2" ]] || fail "predict header: $(head -1 pred.csv)"
    # the predicted classes against the file's labels give eval's accuracy
    pred_acc=$(paste -d, <(tail -n +2 pred.csv | cut -d, -f1) <(tail -n +2 "$DATA/wine_test.csv" | awk -F, '{print $NF}') |
      awk -F, '{n++; if ($1 == $2) c++} END {printf "%.4f", c / n}')
    [[ $pred_acc == "$acc" ]] || fail "predict's classes give accuracy $pred_acc, eval $acc"
    expect 0 "$CTNN" predict --model wine.json --data "$DATA/wine_test.csv"
    cmp out.txt pred.csv || fail "predict to stdout and to --out differ"
    # new data has no labels: predict reads a file without the label column, to the same predictions
    cut -d, -f1-13 "$DATA/wine_test.csv" > wine_features.csv
    expect 0 "$CTNN" predict --model wine.json --data wine_features.csv
    cmp out.txt pred.csv || fail "predict without the label column differs from predict with it"
    expect 3 "$CTNN" eval --model wine.json --data wine_features.csv  # eval needs the labels
    contains err.txt 'wine_features.csv:1: header has no label column "label"'
    cut -d, -f1-12 "$DATA/wine_test.csv" > wine_short.csv
    expect 3 "$CTNN" predict --model wine.json --data wine_short.csv
    contains err.txt "wine_short.csv: 12 feature columns, the model takes 13"
    # A shipped dataset with no --lr and --epochs trains with its recipe (iris: 0.01, 50 epochs) and learns;
    # a flag given wins over the recipe.
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --progress none
    contains out.txt "adam lr 0.01, schedule none, batch 32, 50 epochs"
    acc=$(accuracy out.txt)
    awk -v a="$acc" 'BEGIN {exit !(a >= 0.9)}' || fail "iris with its recipe: test accuracy $acc < 0.9"
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --progress none --lr 0.001 --epochs 3
    contains out.txt "adam lr 0.001, schedule none, batch 32, 3 epochs"
    expect 0 "$CTNN" train --train "$DATA/iris_train.csv" --preset iris --progress none --epochs 1
    contains out.txt "adam lr 0.001," ;;

  convergence)
    # --max-steps, --grad-norm-tol and --clip-norm on a preset (the library's Trainer) and on a JSON topology
    # (the tool's own loop over the runtime tape): iris, 120 training rows, batch 32 = 4 steps per epoch.
    cat > net.json <<'JSON'
{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"]}
JSON
    # maxdiff A.json B.json [T]: the largest |difference| between two saved models' weights and biases
    # (with T: how many differ by more than T).
    maxdiff() {
      python3 - "$@" <<'PY'
import json, sys
def flat(path):
    out = []
    for layer in json.load(open(path))["layers"]:
        for row in layer.get("W", []):
            out += row
        out += layer.get("b", [])
    return out
a, b = flat(sys.argv[1]), flat(sys.argv[2])
assert len(a) == len(b) and a, "the models differ in size"
d = [abs(x - y) for x, y in zip(a, b)]
print(sum(x > float(sys.argv[3]) for x in d) if len(sys.argv) > 3 else max(d))
PY
    }
    norms=()
    for topo in "--preset iris" "--topology net.json"; do
      # shellcheck disable=SC2206  # the topology flag and its value, two words
      IRIS=("$CTNN" train --dataset iris --data-dir "$DATA" $topo --batch 32 --seed 3 --progress lines)
      expect 0 "${IRIS[@]}" --epochs 50 --max-steps 7 --log steps.csv --save limited.json
      contains out.txt "stopped (max_steps): reached the step limit of 7 steps"
      rows=$(tail -n +2 steps.csv | cut -d, -f1,2 | tr '\n' ' ')
      [[ $rows == "1,4 2,7 " ]] || fail "$topo --max-steps 7: the log's (epoch, steps) rows are '$rows', expected '1,4 2,7 '"
      [[ -s limited.json ]] || fail "$topo --max-steps: no model saved"
      expect 0 "${IRIS[@]}" --epochs 50 --grad-norm-tol 1e9
      contains out.txt "stopped (gradient_norm): training-set gradient norm"
      contains out.txt "after epoch 1"
      expect 0 "${IRIS[@]}" --epochs 3 --grad-norm-tol 1e-12
      contains out.txt "stopped (max_epochs)"
      [[ $(grep -c "grad_norm" out.txt) == 3 ]] || fail "$topo --grad-norm-tol: not one grad_norm per epoch line"
      norms+=("$(grep -o 'grad_norm [^ ]*' out.txt | tr '\n' ' ')")
      # Clipping: plain SGD at lr 0.1 with the norm clipped to 1e-6 moves no weight by more than 1e-7 a step
      # (8 steps, plus float rounding of the sums); unclipped, the same run moves them by far more.
      expect 0 "${IRIS[@]}" --epochs 2 --optimizer sgd --lr 1e-30 --save init.json
      expect 0 "${IRIS[@]}" --epochs 2 --optimizer sgd --lr 0.1 --clip-norm 1e-6 --save clipped.json
      expect 0 "${IRIS[@]}" --epochs 2 --optimizer sgd --lr 0.1 --save free.json
      clipped=$(maxdiff init.json clipped.json) && free=$(maxdiff init.json free.json) || fail "maxdiff failed"
      awk -v c="$clipped" -v f="$free" 'BEGIN {exit !(c > 0 && c <= 2e-6 && f > 1e-3)}' ||
        fail "$topo --clip-norm 1e-6: weights moved by $clipped (want (0, 2e-6]); unclipped by $free (want > 1e-3)"
      # --clip-value 1e-6 bounds each entry, not the norm: no parameter moves by more than 8 x 0.1 x 1e-6
      # (plus float rounding), and many move by over half that, which a step of norm <= 1e-7 allows for at
      # most 4 of the 67 parameters (the gradients are ~1e-2).
      expect 0 "${IRIS[@]}" --epochs 2 --optimizer sgd --lr 0.1 --clip-value 1e-6 --save valued.json
      valued=$(maxdiff init.json valued.json) && many=$(maxdiff init.json valued.json 4e-7) || fail "maxdiff failed"
      awk -v v="$valued" -v n="$many" 'BEGIN {exit !(v > 0 && v <= 1.2e-6 && n >= 20)}' ||
        fail "$topo --clip-value 1e-6: weights moved by up to $valued (want (0, 1.2e-6]), $many by > 4e-7 (want >= 20)"
    done
    # The same network from the same seed on the static and the runtime tape: the Trainer's gradient-norm
    # pass and the tool's own agree (to the printed digits) after every epoch.
    [[ ${norms[0]} == "${norms[1]}" ]] || fail "training-set gradient norms differ: preset '${norms[0]}', topology '${norms[1]}'"
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --clip-norm -1
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --clip-value -1
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --grad-norm-tol -1 ;;
  early_stopping)
    # --validation-split and --patience on a preset (the Trainer) and a JSON topology (the tool's own loop).
    cat > net.json <<'JSON'
{"layer_sizes": [64, 24, 10], "activations": ["tanh", "identity"]}
JSON
    BASE=("$CTNN" train --dataset digits --data-dir "$DATA" --seed 5 --lr 0.03 --progress lines)
    early_stop_resume "${BASE[@]}"
    early_stop_resume "${BASE[@]}" --topology net.json
    # the checkpoint and the flags must agree on early stopping (exit 3, naming the file) ...
    expect 0 "${BASE[@]}" --epochs 2 --validation-split 0.2 --checkpoint plain.ckpt
    expect 3 "${BASE[@]}" --epochs 3 --validation-split 0.2 --patience 4 --resume plain.ckpt
    contains err.txt "plain.ckpt: written without --patience, resumed with --patience 4 (it holds no early-stopping record"
    expect 3 "${BASE[@]}" --topology net.json --epochs 100 --validation-split 0.2 --resume es.ckpt  # early_stop_resume's
    contains err.txt "es.ckpt: written with --patience, resumed without it (its early-stopping record would be dropped)"
    # ... and on the rows held out: another --validation-split would train on other rows
    expect 0 "${BASE[@]}" --epochs 2 --validation-split 0.2 --checkpoint split.ckpt
    expect 3 "${BASE[@]}" --epochs 3 --validation-split 0.1 --resume split.ckpt
    contains err.txt "split.ckpt: written with --validation-split 0.2, resumed with 0.1 (other rows would be trained on)"
    expect 3 "${BASE[@]}" --epochs 3 --resume split.ckpt
    contains err.txt "resumed with 0 (other rows"
    expect 0 "${BASE[@]}" --epochs 3 --validation-split 0.2 --resume split.ckpt
    # usage errors (exit 2): patience without a split (never on the test set), a split that leaves no
    # rows, a fraction out of range, --min-delta without --patience
    expect 2 "${BASE[@]}" --patience 3
    contains err.txt "--patience: needs --validation-split"
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --validation-split 0.001
    contains err.txt "--validation-split 0.001 of 120 training rows leaves no validation rows"
    expect 2 "${BASE[@]}" --validation-split 1
    expect 2 "${BASE[@]}" --validation-split 0.2 --min-delta 0.1
    # --patience: the run ends on the best validation epoch's parameters whatever ends it (here the epoch
    # limit, patience never running out): the epoch of the lowest val_loss in the log is the one named,
    # and the saved model is byte for byte the one a run stopped at that epoch saves
    for net in "" "--topology net.json"; do
      # shellcheck disable=SC2086
      KEEP=("${BASE[@]}" $net --validation-split 0.2 --patience 100)
      expect 0 "${KEEP[@]}" --epochs 12 --log keep.csv --save keep12.json
      best=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
                      NR == 2 || $c["val_loss"] < min {min = $c["val_loss"]; e = $1} END {print e}' keep.csv)
      [[ -n $best ]] || fail "no val_loss in keep.csv"
      contains out.txt "stopped (max_epochs)"
      contains out.txt "kept the parameters of epoch $best, the lowest val_loss ("
      [[ $(sed -n 's/^val accuracy //p' out.txt) == $(sed -n "s/^epoch $best\/12 .* val_acc \([0-9.]*\) .*/\1/p" out.txt) ]] ||
        fail "$net: the val accuracy printed is not epoch $best's"
      expect 0 "${KEEP[@]}" --epochs "$best" --save keep_best.json
      cmp keep12.json keep_best.json || fail "$net: the 12-epoch run did not end on epoch $best's parameters"
      [[ $best != 12 ]] || echo "note: the best epoch was the last; the byte comparison is weaker"
      # ... and when --max-steps or the gradient-norm criterion ends it
      expect 0 "${KEEP[@]}" --epochs 12 --max-steps 100
      contains out.txt "stopped (max_steps)"
      contains out.txt "kept the parameters of epoch"
      expect 0 "${KEEP[@]}" --epochs 12 --grad-norm-tol 1e9
      contains out.txt "stopped (gradient_norm)"
      contains out.txt "kept the parameters of epoch 1, the lowest val_loss"
    done ;;
  topology)
    cat > net.json <<'JSON'
{"layer_sizes": [64, 24, 10], "activations": ["tanh", "identity"]}
JSON
    expect 0 "$CTNN" train --topology net.json --dataset digits --data-dir "$DATA" --epochs 15 --batch 50 \
      --optimizer rmsprop --lr 0.003 --schedule exp --gamma 0.95 --save full.json
    full_acc=$(accuracy out.txt)
    awk -v a="$full_acc" 'BEGIN {exit !(a >= 0.9)}' || fail "JSON topology on digits: test accuracy $full_acc < 0.9"
    # rmsprop without --momentum is plain RMSProp (momentum 0, as PyTorch's), not SGD momentum's 0.9
    expect 0 "$CTNN" train --topology net.json --dataset digits --data-dir "$DATA" --epochs 15 --batch 50 \
      --optimizer rmsprop --momentum 0 --lr 0.003 --schedule exp --gamma 0.95 --save m0.json
    cmp -s full.json m0.json || fail "rmsprop's default momentum is not 0: full.json != m0.json"
    # resume from a checkpoint of epoch 6 of the same run (--epochs 6 then --epochs 15)
    expect 0 "$CTNN" train --topology net.json --dataset digits --data-dir "$DATA" --epochs 6 --batch 50 \
      --optimizer rmsprop --lr 0.003 --schedule exp --gamma 0.95 --checkpoint six.ckpt
    expect 0 "$CTNN" train --topology net.json --dataset digits --data-dir "$DATA" --epochs 15 --batch 50 \
      --optimizer rmsprop --lr 0.003 --schedule exp --gamma 0.95 --resume six.ckpt --save resumed.json
    [[ $(accuracy out.txt) == "$full_acc" ]] || fail "resumed JSON-topology run: $(accuracy out.txt) != $full_acc"
    # One output for two classes: after a sigmoid a probability (binary cross-entropy on it by default),
    # after an identity a logit (on logits). eval and predict read the saved model the same way.
    for last in sigmoid identity; do
      echo "{\"layer_sizes\": [30, 16, 1], \"activations\": [\"relu\", \"$last\"]}" > bin.json
      expect 0 "$CTNN" train --topology bin.json --dataset breast_cancer --data-dir "$DATA" --progress none \
        --save bin_model.json
      acc=$(accuracy out.txt)
      awk -v a="$acc" 'BEGIN {exit !(a >= 0.93)}' || fail "one $last output on breast_cancer: test accuracy $acc < 0.93"
      expect 0 "$CTNN" eval --model bin_model.json --dataset breast_cancer --data-dir "$DATA"
      [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "one $last output: eval's accuracy differs from $acc"
      expect 0 "$CTNN" predict --model bin_model.json --data "$DATA/breast_cancer_test.csv" --out pred.csv
      [[ $(head -1 pred.csv) == "class,p_0,p_1" ]] || fail "one $last output: predict header $(head -1 pred.csv)"
      # each row: p_0 + p_1 = 1, the class is p_1 > 0.5, and the classes against the labels give the accuracy
      paste -d, <(tail -n +2 pred.csv) <(tail -n +2 "$DATA/breast_cancer_test.csv" | awk -F, '{print $NF}') |
        awk -F, -v a="$acc" '{n++; s = $2 + $3; if (s < 0.99999 || s > 1.00001 || $3 < 0 || $3 > 1 || $1 != ($3 > 0.5)) bad++; if ($1 == $4) c++}
          END {exit !(bad == 0 && sprintf("%.4f", c / n) == a)}' || fail "one $last output: predict's rows do not fit"
    done
    # A leaky ReLU's slope travels in the model file ("leaky_relu(0.5)"): eval of the saved model gives
    # the training run's test accuracy (with the default slope it would not; session 18's audit).
    echo '{"layer_sizes": [13, 16, 3], "activations": ["leaky_relu", "identity"], "leaky_relu_negative_slope": 0.5}' \
      > leaky.json
    expect 0 "$CTNN" train --topology leaky.json --dataset wine --data-dir "$DATA" --epochs 3 --lr 0.001 \
      --progress none --save leaky_model.json
    acc=$(accuracy out.txt)
    contains leaky_model.json '"leaky_relu(0.5)"'
    expect 0 "$CTNN" eval --model leaky_model.json --dataset wine --data-dir "$DATA"
    [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "leaky slope 0.5: eval's accuracy differs from $acc"
    # A topology's own loss travels in the model file: eval reports the loss the last epoch printed.
    echo '{"layer_sizes": [30, 16, 1], "activations": ["relu", "sigmoid"], "loss": {"type": "mse_mean"}}' > bin.json
    expect 0 "$CTNN" train --topology bin.json --dataset breast_cancer --data-dir "$DATA" --progress lines \
      --save bin_model.json
    last=$(grep -o 'test_loss [0-9.]*' out.txt | tail -1 | cut -d' ' -f2)
    expect 0 "$CTNN" eval --model bin_model.json --dataset breast_cancer --data-dir "$DATA"
    evl=$(printf '%.4f' "$(sed -n 's/^loss //p' out.txt)")
    [[ -n $last && $evl == "$last" ]] || fail "eval of a model trained with mse_mean: loss $evl, the last epoch's test_loss $last"
    refuse() {  # refuse ACTIVATION LOSS MESSAGE
      echo "{\"layer_sizes\": [30, 4, 1], \"activations\": [\"relu\", \"$1\"], \"loss\": {\"type\": \"$2\"}}" > bin.json
      expect 3 "$CTNN" train --topology bin.json --dataset breast_cancer --data-dir "$DATA"
      contains err.txt "$3"
    }
    refuse identity mse_mean "bin.json: one identity output is the logit of class 1: its loss must be bce_logits"
    refuse sigmoid softmax_ce_logits "one sigmoid output is the probability of class 1: its loss must be bce_prob,"
    refuse tanh mse_mean "one output classifies two classes after a sigmoid (a probability) or an identity (a logit), not after tanh"
    refuse softmax ce_prob "not after softmax"
    # one output per class: the loss must fit the last activation, refused before any step (exit 3, the
    # file's loss object named), not a NaN at step 1 (exit 4) or a softmax applied twice without a word
    refuse3() {  # refuse3 ACTIVATION LOSS-OBJECT MESSAGE
      echo "{\"layer_sizes\": [4, 8, 3], \"activations\": [\"relu\", \"$1\"], \"loss\": $2}" > multi.json
      expect 3 "$CTNN" train --topology multi.json --dataset iris --data-dir "$DATA" --progress lines
      contains err.txt "$3"
      [[ ! -s out.txt ]] || fail "multi.json ($1, $2): refused after training started: $(cat out.txt)"
    }
    refuse3 identity '{"type": "ce_prob"}' \
      "multi.json.loss: ce_prob (cross_entropy) takes probabilities: a probability loss needs a softmax output, the last activation is identity"
    refuse3 relu '{"type": "cross_entropy"}' "a probability loss needs a softmax output, the last activation is relu"
    refuse3 softmax '{"type": "softmax_ce_logits"}' \
      "multi.json.loss: the softmax losses on logits apply a softmax themselves: after a softmax layer it would be applied twice"
    refuse3 identity '{"type": "softmax_ce_logits_weighted_pytorch", "class_weights": [1, 2]}' \
      "multi.json.loss.class_weights: 2 weights for 3 outputs (one per class)"
    refuse3 identity '{"type": "mse_meen"}' \
      'multi.json.loss.type: unknown loss "mse_meen" (mse_half_sum, mse_mean, bce_prob, bce_logits, softmax_ce_logits'
    refuse3 identity '{"type": "mse_mean", "delta": 0.5}' "multi.json.loss.delta: mse_mean takes no delta (huber's threshold)"
    refuse3 identity '{"type": "huber", "delta": 0}' "multi.json.loss.delta: must be > 0, got 0"
    refuse3 identity '{"type": "softmax_ce_logits", "class_weights": [1, 1, 1]}' \
      "multi.json.loss.class_weights: softmax_ce_logits takes no class weights"
    # what fits trains: a probability loss after a softmax, huber with its delta, the weights one per class
    for ok in 'softmax {"type": "ce_prob"}' 'identity {"type": "huber", "delta": 0.5}' \
              'identity {"type": "softmax_ce_logits_weighted_pytorch", "class_weights": [1, 2, 1]}'; do
      echo "{\"layer_sizes\": [4, 8, 3], \"activations\": [\"relu\", \"${ok%% *}\"], \"loss\": ${ok#* }}" > multi.json
      expect 0 "$CTNN" train --topology multi.json --dataset iris --data-dir "$DATA" --progress none --epochs 3
    done
    # "param_count" checks the count the sizes give (4*8+8 + 8*3+3 = 67)
    echo '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"], "param_count": 67}' > counted.json
    expect 0 "$CTNN" train --topology counted.json --dataset iris --data-dir "$DATA" --progress none --epochs 1
    echo '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"], "param_count": 68}' > counted.json
    expect 3 "$CTNN" train --topology counted.json --dataset iris --data-dir "$DATA" --progress none --epochs 1
    contains err.txt "counted.json.param_count: the sizes give 67 parameters"
    # a topology run's lines and log carry the preset's columns, with real values: the training accuracy
    # counted on the batches as they are trained, and the epoch's CPU time
    expect 0 "$CTNN" train --topology net.json --dataset digits --data-dir "$DATA" --epochs 5 --progress lines \
      --log topo.csv
    [[ $(grep -c '^epoch [0-9]*/5  loss [0-9.]*  acc [0-9.]*  test_loss .* s (cpu [0-9.]* s; +[0-9.]* s eval)$' out.txt) == 5 ]] ||
      { cat out.txt >&2; fail "a topology run's epoch lines lack the preset's acc and cpu columns"; }
    expect 0 "$CTNN" train --preset digits --dataset digits --data-dir "$DATA" --epochs 1 --progress none --log preset.csv
    [[ $(head -1 topo.csv) == "$(head -1 preset.csv)" ]] || fail "log columns: topology '$(head -1 topo.csv)', preset '$(head -1 preset.csv)'"
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
             {a = $c["train_accuracy"]; t = $c["cpu_seconds"]; if (!(a > 0 && a <= 1 && t > 0)) bad++; last = a}
             END {exit !(bad == 0 && NR == 6 && last > 0.9)}' topo.csv ||
      { cat topo.csv >&2; fail "topology log: train_accuracy and cpu_seconds must be measured (0 < acc <= 1, cpu > 0; last acc > 0.9)"; }
    cmp full.json resumed.json || fail "resumed JSON-topology weights differ"
    expect 0 "$CTNN" eval --model full.json --dataset digits --data-dir "$DATA"
    [[ $(sed -n 's/^accuracy //p' out.txt) == "$full_acc" ]] || fail "eval of the JSON-topology model differs" ;;

  data_parallel)
    # mpiexec -n 2 ctnn train --data-parallel (registered when meson found MPI): top-k with error
    # feedback on digits learns; one process prints the result, writes the log and saves; eval agrees.
    DP=(mpiexec -n 2 "$CTNN" train --dataset digits --data-dir "$DATA" --seed 7 --optimizer momentum --lr 0.02
      --progress lines --data-parallel)
    expect 0 "${DP[@]}" --epochs 10 --compress top-k --save dp.json --log dp.csv
    acc=$(accuracy out.txt)
    awk -v a="$acc" 'BEGIN {exit !(a >= 0.9)}' || fail "data-parallel top-k on digits: test accuracy $acc < 0.9"
    [[ $(grep -c '^test accuracy' out.txt) == 1 ]] || fail "more than one process printed the result"
    contains out.txt "data-parallel: 2 processes x 32 rows per step, gradients top-k, 1% of the entries, with error feedback"
    contains out.txt "fewer bytes than dense), replicas equal"
    [[ $(wc -l < dp.csv) == 11 ]] || fail "the run log should have a header and 10 rows"
    expect 0 "$CTNN" eval --model dp.json --dataset digits --data-dir "$DATA"
    [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "eval of the data-parallel model differs from its test accuracy"
    # The convergence flags reach the data-parallel loop: 1437 rows / (32 x 2) = 22 steps an epoch, so a
    # limit of 30 steps ends in epoch 2 (logged, not checkpointed); a gradient-norm stop after epoch 1.
    expect 0 "${DP[@]}" --epochs 10 --max-steps 30 --clip-norm 1 --log lim.csv --checkpoint lim.ckpt
    contains out.txt "reached the step limit of 30 steps"
    rows=$(tail -n +2 lim.csv | cut -d, -f1,2 | tr '\n' ' ')
    [[ $rows == "1,22 2,30 " ]] || fail "--data-parallel --max-steps 30: the log's (epoch, steps) rows are '$rows'"
    # the checkpoint holds epoch 1: epoch 2 runs again, whole (with the flags it was written with)
    expect 0 "${DP[@]}" --epochs 2 --clip-norm 1 --resume lim.ckpt
    contains out.txt "epoch 2/2"
    expect 0 "${DP[@]}" --epochs 10 --grad-norm-tol 1e9
    contains out.txt "training-set gradient norm"
    contains out.txt "after epoch 1"
    # SIGINT to mpiexec reaches the processes (hydra forwards it); they stop together before the same
    # step with equal parameters and exit 130. mpiexec's own status after a forwarded Ctrl-C is
    # hydra's choice (130 or 0 here, run to run), so the processes' agreement is checked in the output.
    "${DP[@]}" --epochs 100000 > run.out 2> run.err &
    pid=$!
    for _ in $(seq 1000); do grep -q '^epoch 2/' run.out 2>/dev/null && break; sleep 0.01; done
    kill -s INT $pid
    wait $pid
    rc=$?
    [[ $rc == 130 || $rc == 0 ]] || { cat run.out run.err >&2; fail "SIGINT: exit code $rc, expected 130 (or hydra's 0)"; }
    contains run.out "interrupted (a stop was requested on rank"
    contains run.out "steps (that epoch abandoned); each sent"
    contains run.out "replicas equal"
    contains run.err "ctnn: interrupted (no --checkpoint: nothing saved)"
    [[ $(grep -c '^ctnn: interrupted' run.err) == 1 ]] || fail "more than one process reported the interruption"
    # --checkpoint / --resume: interrupted by SIGINT at a random point after its first checkpoint, the
    # resumed run (sign + error feedback: each process's remainder is in the checkpoint too) ends with
    # the uninterrupted run's weights, bit for bit
    DPS=(mpiexec -n 2 "$CTNN" train --dataset digits --data-dir "$DATA" --optimizer adam --lr 0.003 --schedule exp
      --gamma 0.99 --progress lines --data-parallel --epochs 150 --compress sign)
    t0=$(date +%s%N)
    expect 0 "${DPS[@]}" --save dps_full.json
    full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    span=$(( full_ms * 5 / 10 + 1 ))
    for _ in 1 2 3; do  # as interrupt(): a run that ends before the signal is run again, the window halved
      rm -f dps.ckpt dps.ckpt.rank*
      "${DPS[@]}" --checkpoint dps.ckpt > run.out 2> run.err &
      pid=$!
      for _ in $(seq 1000); do [[ -e dps.ckpt ]] && break; sleep 0.01; done
      [[ -e dps.ckpt ]] || fail "no data-parallel checkpoint written after 10 s"
      sleep_ms $(( (RANDOM * 32768 + RANDOM) % span ))
      kill -s INT $pid 2>/dev/null
      wait $pid && span=$(( span / 2 + 1 )) || break  # exit 0: it ended before the signal
    done
    contains run.err "continue with --resume dps.ckpt"
    expect 0 "${DPS[@]}" --resume dps.ckpt --save dps_resumed.json
    cmp dps_full.json dps_resumed.json || fail "the resumed data-parallel run's weights differ from the uninterrupted run's"
    [[ $(ls dps.ckpt.rank* | wc -l) == 2 ]] || fail "expected one remainder file per process: $(ls dps.ckpt*)"
    # a checkpoint of another process count or seed is refused by every process (exit 3)
    expect 3 mpiexec -n 1 "${DPS[@]:3}" --resume dps.ckpt  # the same flags, one process
    contains err.txt "dps.ckpt: written by 2 processes, resumed with 1"
    expect 3 "${DPS[@]}" --resume dps.ckpt --seed 8
    contains err.txt "written with another --seed"
    # every process refuses it together (dist::AgreedError): one of them prints it
    [[ $(grep -c '^ctnn: error:' err.txt) == 1 ]] || fail "a refused data-parallel resume is printed once: $(cat err.txt)"
    # one process missing its part: that process says why, once (process 0 only knew that it failed)
    cp dps.ckpt part.ckpt
    for f in dps.ckpt.rank0.*; do cp "$f" "part.ckpt${f#dps.ckpt}"; done
    expect 3 "${DPS[@]}" --resume part.ckpt
    contains err.txt "ctnn: error: process 1 of 2: part.ckpt.rank1.epoch"
    [[ $(grep -c '^ctnn: error:' err.txt) == 1 ]] || fail "a one-process resume failure is printed once: $(cat err.txt)"
    # a data-parallel checkpoint resumed without --data-parallel (and a one-process one with it): the flag is the error
    expect 3 "$CTNN" train --dataset digits --data-dir "$DATA" --optimizer adam --lr 0.003 --schedule exp --gamma 0.99 \
      --progress lines --epochs 150 --resume dps.ckpt
    contains err.txt "dps.ckpt: written by a --data-parallel run of 2 processes; resume it with mpiexec -n 2 ctnn train ... --data-parallel"
    lacks err.txt "nothing expects"
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 1 --checkpoint one.ckpt --progress none
    expect 3 mpiexec -n 2 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 2 --data-parallel --resume one.ckpt
    contains err.txt "one.ckpt: written by a run without --data-parallel (one process); resume it without --data-parallel"
    expect 0 mpiexec -n 1 "$CTNN" train --dataset iris --data-dir "$DATA" --epochs 1 --data-parallel --progress none
    contains out.txt "data-parallel: 1 process x 32 rows per step"
    expect 3 "${DPS[@]}" --resume dps.ckpt --weight-decay 0.1
    contains err.txt "dps.ckpt: written with --weight-decay 0, resumed with --weight-decay 0.1"
    # a NaN/Inf on one process stops all of them at the same step: exit code 4, one message (batch 16:
    # 3 steps an epoch, so the second step meets it; with 1 step an epoch the test loss would, below)
    printf '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"]}' > iris_topology.json
    expect 4 mpiexec -n 2 "$CTNN" train --topology iris_topology.json --batch 16 --dataset iris --data-dir "$DATA" \
      --data-parallel --optimizer sgd --lr 1e30 --epochs 5
    contains err.txt "training diverged: non-finite loss or gradient on rank "
    [[ $(grep -c 'training diverged' err.txt) == 1 ]] || fail "more than one process reported the divergence"
    contains out.txt "replicas equal"
    # one step an epoch (2 x 32 rows of 120): finite loss and gradient, weights ~1e30, the test loss nan
    expect 4 mpiexec -n 2 "$CTNN" train --dataset iris --data-dir "$DATA" --data-parallel --optimizer sgd --lr 1e30 \
      --epochs 5
    contains err.txt "training diverged: the test loss is nan after epoch 1 although every training step's loss"
    [[ $(grep -c 'training diverged' err.txt) == 1 ]] || fail "more than one process reported the divergence"
    # --validation-split and --patience: the data-parallel checkpoint carries the early-stopping record too
    early_stop_resume mpiexec -n 2 "$CTNN" train --dataset digits --data-dir "$DATA" --seed 5 --lr 0.03 \
      --progress lines --data-parallel
    # an unwritable --save: every process stops before training (none left waiting), one message
    expect 1 mpiexec -n 2 "$CTNN" train --dataset iris --data-dir "$DATA" --data-parallel --save missing/m.json
    [[ $(grep -c 'missing/m.json: cannot write' err.txt) == 1 ]] || fail "unwritable --save: $(cat err.txt)"
    [[ ! -s out.txt ]] || fail "unwritable --save with --data-parallel: trained before refusing: $(cat out.txt)"
    # what it refuses (usage errors, exit 2)
    expect 2 "$CTNN" train --dataset iris --data-dir "$DATA" --compress top-k
    # more rows per step than the training set has: a usage error, said once, before training
    expect 2 mpiexec -n 2 "$CTNN" train --dataset iris --data-dir "$DATA" --data-parallel --batch 64
    contains err.txt "--batch 64 x 2 processes = 128 rows per step, more than the 120 training rows"
    [[ $(grep -c "rows per step, more than" err.txt) == 1 ]] || fail "the batch error is printed once: $(cat err.txt)"
    # a set-up error every process meets (a malformed CSV) is printed once, with its exit code
    head -5 "$DATA/iris_train.csv" > bad.csv
    echo "5.1,3.5,x,0.2,0" >> bad.csv
    expect 3 mpiexec -n 2 "$CTNN" train --train bad.csv --preset iris --data-parallel
    contains err.txt "bad.csv:6:3"
    [[ $(grep -c '^ctnn: error:' err.txt) == 1 ]] || fail "a common set-up error is printed once: $(cat err.txt)"
    # one that only process 1 meets (its own command line: mpiexec's A : B form): it says so, and
    # process 0 does not wait for it in a collective
    expect 3 timeout 60 mpiexec -n 1 "$CTNN" train --dataset iris --data-dir "$DATA" --data-parallel --epochs 1 : \
      -n 1 "$CTNN" train --train missing.csv --preset iris --data-parallel --epochs 1
    contains err.txt "ctnn: error: process 1 of 2 (process 0 had no error): missing.csv"
    [[ $(grep -c '^ctnn: error:' err.txt) == 1 ]] || fail "a one-process set-up error is printed once: $(cat err.txt)"
    [[ ! -s out.txt ]] || fail "a set-up error on process 1: process 0 trained: $(cat out.txt)"
    # --on-nan rollback: every process goes back together, three times, then exit 4 from each
    printf '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"]}' > iris_topology.json
    for net in "--preset iris" "--topology iris_topology.json"; do
      # shellcheck disable=SC2086
      expect 4 mpiexec -n 2 "$CTNN" train $net --dataset iris --data-dir "$DATA" --data-parallel --batch 32 \
        --epochs 5 --optimizer sgd --lr 1e30 --on-nan rollback --progress lines
      # 120 rows / (32 x 2): one step an epoch; step 1's loss and gradient are finite, but the test loss
      # after it is not: back to the start (the state of epoch 1's end, kept before, was already lost)
      contains out.txt "epoch 1: rollback 1 of 3: the test loss is nan after epoch 1 although every training step"
      contains out.txt "; back to the end of epoch 0 (step 0), learning rate x0.5"
      contains out.txt "rollback 3 of 3"
      [[ $(grep -c "rollback 1 of 3" out.txt) == 1 ]] || fail "the rollback line is printed once (process 0)"
      contains err.txt "(after 3 rollbacks)"
    done
    # A --topology network trains data-parallel too (dist::RuntimeReplica): it learns, eval of the saved
    # model gives the accuracy training printed, and a resume with top-k + error feedback ends on the
    # uninterrupted run's weights, byte for byte.
    printf '{"layer_sizes": [64, 32, 10], "activations": ["relu", "identity"]}' > dp_topology.json
    TDP=(mpiexec -n 2 "$CTNN" train --topology dp_topology.json --dataset digits --data-dir "$DATA" --data-parallel
         --compress top-k --progress none)
    expect 0 "${TDP[@]}" --epochs 6 --save dpt_full.json
    contains out.txt "data-parallel: 2 processes x 32 rows per step"
    contains out.txt "replicas equal"
    acc=$(accuracy out.txt)
    awk -v a="$acc" 'BEGIN {exit !(a >= 0.9)}' || fail "data-parallel --topology on digits: test accuracy $acc < 0.9"
    expect 0 "$CTNN" eval --model dpt_full.json --dataset digits --data-dir "$DATA"
    [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "eval of the data-parallel --topology model differs"
    expect 0 "${TDP[@]}" --epochs 3 --checkpoint dpt.ckpt
    expect 0 "${TDP[@]}" --epochs 6 --resume dpt.ckpt --save dpt_resumed.json
    cmp dpt_full.json dpt_resumed.json || fail "the resumed data-parallel --topology run's weights differ"
    # One logit output (binary): the processes classify at logit 0, as eval does at p = 0.5. Trained
    # 20 epochs it learns; after one small step many logits are near 0, where a wrong boundary shows (at
    # logit 0.5 the printed accuracy was 0.6754 against eval's 0.7456).
    printf '{"layer_sizes": [30, 16, 1], "activations": ["relu", "identity"]}' > dp_binary.json
    BDP=(mpiexec -n 2 "$CTNN" train --topology dp_binary.json --dataset breast_cancer --data-dir "$DATA"
         --data-parallel --batch 16 --progress none --save dpb.json)
    expect 0 "${BDP[@]}"
    acc=$(accuracy out.txt)
    awk -v a="$acc" 'BEGIN {exit !(a >= 0.9)}' || fail "data-parallel binary --topology: test accuracy $acc < 0.9"
    expect 0 "${BDP[@]}" --epochs 1 --lr 1e-4
    acc=$(accuracy out.txt)
    expect 0 "$CTNN" eval --model dpb.json --dataset breast_cancer --data-dir "$DATA"
    [[ $(sed -n 's/^accuracy //p' out.txt) == "$acc" ]] || fail "data-parallel binary model: trained $acc, eval $(cat out.txt)" ;;

  model_file)
    # A model saved by the tool carries the standardisation its network was trained with. A C++ user's
    # io::load_model_json(net, path) refuses it, naming the overload that returns it; applied, that
    # standardisation gives the classes `ctnn predict` gives; not applied, other (wrong) classes.
    [[ -x $LOADER ]] || fail "model_file needs the load_tool_model program as its third argument"
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --progress none --save iris.json
    expect 0 "$CTNN" predict --model iris.json --data "$DATA/iris_test.csv" --out pred.csv
    tail -n +2 pred.csv | cut -d, -f1 > tool_classes.txt
    # eval and predict --dataset read the test split only: a folder without the training file will do
    mkdir -p test_only && cp "$DATA/iris_test.csv" test_only/
    expect 0 "$CTNN" predict --model iris.json --dataset iris --data-dir test_only --out pred_ds.csv
    cmp pred.csv pred_ds.csv || fail "predict --dataset differs from predict --data on the same test file"
    expect 0 "$CTNN" eval --model iris.json --dataset iris --data-dir test_only
    expect 0 "$LOADER" iris.json "$DATA/iris_test.csv"
    cmp out.txt tool_classes.txt || fail "the standardisation io::load_model_json returns does not give predict's classes"
    expect 0 "$LOADER" iris.json "$DATA/iris_test.csv" --raw
    ! cmp -s out.txt tool_classes.txt || fail "raw inputs gave predict's classes: the test shows nothing"
    expect 3 "$LOADER" iris.json "$DATA/iris_test.csv" --plain
    contains err.txt "iris.json: /ctnn_tool/standardize: the file holds the feature standardisation the network was trained with (4 means"
    contains err.txt "Load it with io::load_model_json(net, path, io::with_standardizer)"
    # without standardisation the file has none: the plain load reads it, to predict's classes
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --progress none --no-standardize --save raw.json
    expect 0 "$CTNN" predict --model raw.json --data "$DATA/iris_test.csv" --out pred_raw.csv
    expect 0 "$LOADER" raw.json "$DATA/iris_test.csv" --plain
    cmp out.txt <(tail -n +2 pred_raw.csv | cut -d, -f1) || fail "a model without standardisation: the plain load's classes differ"
    # the tool's model and topology file messages are the io layer's (docs/errors.md): file:line:column
    # for JSON syntax, JSON pointers, never nlohmann's own "[json.exception...]" text; exit code 3
    bad_file() {  # bad_file MESSAGE CTNN-ARGS...
      local msg=$1; shift
      expect 3 "$CTNN" "$@"
      contains err.txt "$msg"
      lacks err.txt "json.exception"
    }
    E=(--dataset iris --data-dir "$DATA")
    bad_file "ctnn: error: nonexist.json: cannot open file (No such file or directory)" eval --model nonexist.json "${E[@]}"
    head -c 300 iris.json > truncated.json
    bad_file "ctnn: error: truncated.json:1:301: invalid JSON: syntax error while parsing" eval --model truncated.json "${E[@]}"
    echo '[1, 2]' > array.json
    bad_file "ctnn: error: array.json: /: expected an object, found array" eval --model array.json "${E[@]}"
    echo '{"layer_sizes": [4, 8, 3], "activations": ["relu", "identity"]}' > topo.json
    bad_file 'topo.json: /format: missing key: this looks like a topology (it has "layer_sizes"), which ctnn train --topology takes' \
      predict --model topo.json "${E[@]}"
    bad_file 'iris.json: a model file ("format": "ctnn-model"), not a topology: eval and predict take it as --model' \
      train --topology iris.json "${E[@]}"
    printf '{"layer_sizes": [4, 8, 3],\n "activations": ["relu", "identity"],}\n' > comma.json
    bad_file "ctnn: error: comma.json:2:38: invalid JSON: syntax error while parsing object key" train --topology comma.json "${E[@]}"
    bad_file "ctnn: error: none.json: cannot open file (No such file or directory)" train --topology none.json "${E[@]}"
    python3 -c 'import json,sys; j = json.load(open("iris.json")); j["layers"][2]["W"][1] = [1, 2]; json.dump(j, open("ragged.json", "w"))'
    bad_file "ragged.json: /layers/2/W/1: layer 2 (Dense(8,3)) W: expected a row of 8 numbers, found a row of 2" \
      eval --model ragged.json "${E[@]}"
    python3 -c 'import json,sys; j = json.load(open("iris.json")); j["ctnn_tool"]["standardize"]["mean"].pop(); json.dump(j, open("short.json", "w"))'
    bad_file "short.json: /ctnn_tool/standardize/mean: expected 4 values (one per input of the network), found 3" \
      eval --model short.json "${E[@]}"
    # A PyTorch nn.Sequential written by tools/torch-export ends Linear, Identity, Softmax: the identity gives
    # way to the softmax after it (it was refused: "layer softmax does not follow a Dense layer"), and predict
    # gives PyTorch's own float32 outputs. Two activations that both do something after one Dense are refused.
    T="$DATA/../tests/data/torch"
    python3 - "$T/mlp_io.json" <<'PY'
import json, sys
io = json.load(open(sys.argv[1]))
with open("torch_x.csv", "w") as f:
    f.write(",".join(f"f{i}" for i in range(5)) + "\n")
    for row in io["inputs"]:
        f.write(",".join(repr(v) for v in row) + "\n")
PY
    # The second export has LeakyReLU(0.2), written "leaky_relu(0.2)", and ends with a Linear layer: predict
    # writes the softmax of PyTorch's outputs (it takes them as class scores).
    for m in mlp_float32:mlp_io:probs mlp_leaky:mlp_leaky_io:logits; do
      model=${m%%:*} io=${m#*:}
      expect 0 "$CTNN" predict --model "$T/$model.json" --data torch_x.csv --out torch_pred.csv
      python3 - "$T/${io%%:*}.json" torch_pred.csv "${io#*:}" <<'PY' || fail "predict on the PyTorch model $model differs from PyTorch's outputs"
import csv, json, math, sys
want = json.load(open(sys.argv[1]))["outputs_float32"]
if sys.argv[3] == "logits":
    want = [[math.exp(v - max(r)) / sum(math.exp(u - max(r)) for u in r) for v in r] for r in want]
got = [[float(v) for v in r[1:]] for r in list(csv.reader(open(sys.argv[2])))[1:]]
worst = max(abs(a - b) for w, g in zip(want, got) for a, b in zip(w, g))
print(f"largest difference from PyTorch: {worst:.2e}")
sys.exit(0 if len(got) == len(want) == 32 and worst < 1e-5 else 1)
PY
    done
    python3 -c 'import json; j = json.load(open("iris.json")); j["layers"].insert(2, {"type": "sigmoid"}); json.dump(j, open("two_acts.json", "w"))'
    bad_file 'two_acts.json: /layers/2: "sigmoid" is a second activation after the Dense layer /layers/0 (a RuntimeNetwork applies one after each)' \
      eval --model two_acts.json "${E[@]}"
    # eval: F1 is 0, not nan, where a class's precision and recall are 0 (5 epochs of iris)
    expect 0 "$CTNN" train --dataset iris --data-dir "$DATA" --progress none --epochs 5 --save weak.json
    expect 0 "$CTNN" eval --model weak.json "${E[@]}"
    grep -q '^ *[0-9] *0.0000 *0.0000 *0.0000 ' out.txt || { cat out.txt >&2; fail "no class with precision and recall 0 (the case of F1 = 0)"; }
    lacks out.txt "nan" ;;

  *) fail "unknown case" ;;
esac
echo "PASS ($CASE)"
