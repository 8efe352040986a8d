#!/usr/bin/env bash
# Build one libFuzzer harness with clang, replay its regressions, then fuzz it
# for a bounded time over a scratch copy of its seed corpus.
#
#   tests/fuzz/run-fuzzer.sh NAME [SECONDS] [OUTDIR]
#
# NAME     a directory beside this script (bundle, manifest, minisign, ...)
# SECONDS  fuzzing time after the replay (default 20; 0 replays only)
# OUTDIR   where the binary, scratch corpus and crash artifacts go (default
#          $MESON_BUILD_ROOT/fuzz, else a directory under /tmp); the source
#          tree is never written, the committed corpus never modified
#
# Environment: FUZZ_SECONDS overrides SECONDS (e.g. FUZZ_SECONDS=600 for a
# long local run); FUZZ_ARGS adds libFuzzer flags (e.g. "-jobs=2").
#
# Exits 1 on any crash, leak, timeout or sanitizer report, 77 (skipped) when
# clang or its libFuzzer runtime is missing. libFuzzer's own default crash
# exit code is 77 too, which meson would read as "skipped": hence
# -error_exitcode below.
set -euo pipefail

name=${1:?usage: run-fuzzer.sh NAME [SECONDS] [OUTDIR]}
seconds=${FUZZ_SECONDS:-${2:-20}}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${3:-${MESON_BUILD_ROOT:+$MESON_BUILD_ROOT/fuzz}}
out=${out:-/tmp/hotpatch-fuzz-$(id -u)}
out=$out/$name
lib=$src/src/lib

# What differs between the platforms (base/arch.h): the host's side.
case "$(uname -m)" in
aarch64) arch_src=base/arch_aarch64.c ;;
*) arch_src=base/arch_x86_64.c ;;
esac

# Per harness: the library sources it needs, its libraries, and the largest
# input worth trying (a little above the biggest seed).
case "$name" in
bundle)
	srcs="bundle/bundle.c bundle/debref.c bundle/manifest.c base/buf.c base/error.c base/hex.c base/fileio.c base/strv.c"
	libs="-lsodium" max_len=65536 ;;
manifest)
	srcs="bundle/manifest.c base/buf.c base/error.c base/strv.c"
	libs="" max_len=16384 ;;
minisign)
	srcs="bundle/minisign.c base/buf.c base/error.c"
	libs="-lsodium" max_len=4096 ;;
patchobj)
	srcs="base/elffile.c $arch_src base/error.c base/strv.c $src/src/builder/patchobj.c"
	libs="-lelf" max_len=65536 ;;
record)
	srcs="bundle/record.c base/buf.c base/error.c"
	libs="" max_len=4096 ;;
*)
	echo "run-fuzzer.sh: unknown harness '$name'" >&2
	exit 2 ;;
esac

# Every folder of the library (src/lib/*/): the harnesses may look anywhere.
incs=()
for d in "$lib"/*/; do incs+=("-I$d"); done

cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(){return 0;}' |
     "$cc" -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then
	echo "SKIP: $cc with libFuzzer is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi

mkdir -p "$out"
bin=$out/fuzz_$name
sources=("$here/$name/fuzz_$name.c")
for s in $srcs; do
	case "$s" in /*) sources+=("$s") ;; *) sources+=("$lib/$s") ;; esac
done

# Rebuild only when a source or header changed since the last build.
stale=true
if [ -x "$bin" ]; then
	stale=false
	for f in "${sources[@]}" "$lib"/*/*.h "$src"/src/builder/*.h "$0"; do
		if [ "$f" -nt "$bin" ]; then stale=true; break; fi
	done
fi
if $stale; then
	echo "== building $bin"
	# shellcheck disable=SC2086 # $libs is a word list
	"$cc" -std=gnu17 -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Wall -Wextra -Wno-missing-field-initializers \
		-D_GNU_SOURCE -DHP_VERSION=\"fuzz\" \
		-DHP_SOURCE_INCLUDEDIR=\"x\" -DHP_INSTALLED_INCLUDEDIR=\"x\" \
		-I"$src/include" "${incs[@]}" -I"$src/src/builder" \
		"${sources[@]}" -o "$bin.tmp" $libs -lpthread
	mv "$bin.tmp" "$bin"
fi

# Whatever the caller set, leaks and every UB finding must fail the run.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
flags=(-error_exitcode=1 -timeout_exitcode=1 -timeout=10 -rss_limit_mb=2048
       "-max_len=$max_len" -artifact_prefix="$out/")

# 1. Every input that once crashed must now pass.
regressions=()
for f in "$here/$name/regressions"/*; do
	[ -f "$f" ] && regressions+=("$f")
done
if [ ${#regressions[@]} -gt 0 ]; then
	echo "== replaying ${#regressions[@]} regression input(s)"
	"$bin" "${flags[@]}" "${regressions[@]}" || {
		echo "FAIL: fuzz_$name crashes on a regression input" >&2
		exit 1
	}
fi
[ "$seconds" -gt 0 ] || exit 0

# 2. Fuzz for a bounded time. libFuzzer adds and shrinks files in the first
# corpus directory, so it gets a fresh copy of the committed seeds.
rm -rf "$out/corpus"
cp -R "$here/$name/corpus" "$out/corpus"
echo "== fuzzing fuzz_$name for ${seconds}s (artifacts: $out/)"
# shellcheck disable=SC2086 # FUZZ_ARGS is a word list
"$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
	${FUZZ_ARGS:-} "$out/corpus" || {
	echo "FAIL: fuzz_$name found a crash; the input is in $out/ (crash-*, leak-*," \
	     "timeout-*); copy it to tests/fuzz/$name/regressions/" >&2
	exit 1
}
