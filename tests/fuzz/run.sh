#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (in their own build folder) and runs each for a while,
# starting from a temporary copy of its seed corpus (the repository is not modified). A crash is
# minimised and saved as tests/fuzz/regressions/<target>/crash-<sha1>, which
# tests/core/fuzz_regression_test.cc then replays; the script exits non-zero.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 30 s, every target)
#
# Environment: STAFETT_FUZZ_BUILD (build folder, default build-fuzz beside the sources),
# STAFETT_FUZZ_JOBS (build parallelism, default 2), STAFETT_FUZZ_KEEP (keep the working corpus).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-30}
shift || true
build=${STAFETT_FUZZ_BUILD:-$root/build-fuzz}
jobs=${STAFETT_FUZZ_JOBS:-2}

# Each target and its -max_len: a little over the largest input the parser accepts or the
# largest seed, so the size limits themselves are reachable.
declare -A max_len=(
  [frames]=8192
  [header]=70000
  [personnummer]=32
  [config]=4096
  [document]=40000
  [batch_proof]=1024
)
targets=(frames header personnummer config document batch_proof)
if (($# > 0)); then targets=("$@"); fi

say() { printf '==> %s\n' "$*" >&2; }

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
  >/dev/null 2>&1; then
  say "installing clang and its libFuzzer runtime"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    clang libclang-rt-14-dev >/dev/null
fi

say "building the fuzz targets in $build"
CC=clang CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz -j "$jobs" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/stafett-fuzz.XXXXXX")
if [[ -z ${STAFETT_FUZZ_KEEP:-} ]]; then trap 'rm -rf "$work"' EXIT; fi

failed=()
printf '%-14s %12s %10s %8s  %s\n' target executions exec/s corpus result
for target in "${targets[@]}"; do
  binary=$build/fuzz_$target
  if [[ ! -x $binary || -z ${max_len[$target]:-} ]]; then
    say "unknown target $target"
    exit 2
  fi
  corpus=$work/$target
  mkdir -p "$corpus" "$work/artifacts-$target"
  cp -r "$here/corpus/$target/." "$corpus/"
  if [[ -d $here/regressions/$target ]]; then cp -r "$here/regressions/$target/." "$corpus/"; fi
  log=$work/$target.log
  status=0
  "$binary" "$corpus" -max_len="${max_len[$target]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts-$target/" \
    >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$corpus" -type f | wc -l)
  crasher=$(find "$work/artifacts-$target" -type f | head -1)
  if ((status == 0)) && [[ -z $crasher ]]; then
    printf '%-14s %12s %10s %8s  %s\n' "$target" "${executions:-?}" "${rate:-?}" "$units" ok
    continue
  fi
  failed+=("$target")
  printf '%-14s %12s %10s %8s  %s\n' "$target" "${executions:-?}" "${rate:-?}" "$units" CRASH
  grep -E 'ERROR: |fuzz invariant failed|SUMMARY|^ *#[0-9]+ ' "$log" | head -40 >&2 || true
  if [[ -n $crasher ]]; then
    minimised=$work/minimised-$target
    "$binary" "$crasher" -minimize_crash=1 -max_total_time=60 -exact_artifact_path="$minimised" \
      >/dev/null 2>&1 || true
    [[ -s $minimised ]] || cp "$crasher" "$minimised"
    mkdir -p "$here/regressions/$target"
    saved=$here/regressions/$target/crash-$(sha1sum "$minimised" | cut -c1-40)
    cp "$minimised" "$saved"
    say "saved the crasher as ${saved#"$root"/}"
  fi
done

if ((${#failed[@]} > 0)); then
  say "crashed: ${failed[*]}"
  exit 1
fi
say "no crashes in ${#targets[@]} target(s), ${seconds}s each"
