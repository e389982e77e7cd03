#!/usr/bin/env bash
# make bench: strongroom bench ingest on the shared M365-like corpus, next to
# restic backup and borg create (zstd) of the same directory in the same run
# (scripts/ingest-rounds.sh: alternating rounds, CPU time, peak RSS, page
# faults and stored bytes from /usr/bin/time -v, medians), then scrub and
# repair against cat/cp of the same shard bytes, then the simulated tenant.
#
#   CORPUS         where the corpus is (generated there if missing);
#                  default /tmp/strongroom-corpus, outside the repository
#   CORPUS_SCRIPT  the generator; default ../shared/corpus/m365corpus.py
#   CORPUS_SCALE   default 0.3;  CORPUS_SEED  default 7
#   BENCH_DIR      where vault and repositories go; default a new /tmp dir
#   INGEST_ROUNDS  first-ingest rounds per tool; default 3
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

CORPUS=${CORPUS:-/tmp/strongroom-corpus}
CORPUS_SCRIPT=${CORPUS_SCRIPT:-../shared/corpus/m365corpus.py}
CORPUS_SCALE=${CORPUS_SCALE:-0.3}
CORPUS_SEED=${CORPUS_SEED:-7}

now() { date +%s.%N; }
secs() { python3 -c "import sys;print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }
mbps() { python3 -c "import sys;print(f'{float(sys.argv[1])/1e6/float(sys.argv[2]):.0f}')" "$1" "$2"; }
jget() { python3 -c "import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
dropcache() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null && echo cold || echo warm; }

# restic and borg are only compared against: when they cannot be
# installed, their columns are skipped. /usr/bin/time (package time)
# measures every tool's CPU time, peak RSS and page faults.
missing=""
for p in restic borgbackup time; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } ||
		echo "bench: could not install$missing; what needs them is skipped" >&2
fi

if [ ! -d "$CORPUS" ]; then
	if [ ! -f "$CORPUS_SCRIPT" ]; then
		echo "bench: no corpus at $CORPUS and no generator at $CORPUS_SCRIPT; set CORPUS or CORPUS_SCRIPT" >&2
		exit 1
	fi
	echo "generating corpus: python3 $CORPUS_SCRIPT $CORPUS $CORPUS_SCALE $CORPUS_SEED"
	python3 "$CORPUS_SCRIPT" "$CORPUS.tmp" "$CORPUS_SCALE" "$CORPUS_SEED"
	mv "$CORPUS.tmp" "$CORPUS"
fi
files=$(find "$CORPUS" -type f | wc -l)
bytes=$(find "$CORPUS" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "corpus: $CORPUS, $files files, $bytes bytes"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

make -s build
SR="$PWD/bin/strongroom"
W=${BENCH_DIR:-$(mktemp -d /tmp/strongroom-bench.XXXXXX)}
cleanup() {
	chattr -R -i "$W" 2>/dev/null || true
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W"/d1 "$W"/d2 "$W"/d3 "$W"/d4
D=(--disk "$W/d1" --disk "$W/d2" --disk "$W/d3" --disk "$W/d4")

# Every tool starts from the same page-cache state: cold when this process
# may drop caches (root), otherwise warm for all.
cat_corpus() { find "$CORPUS" -type f -print0 | xargs -0 cat >/dev/null; }

echo; echo "== first ingest: strongroom (4 disks, 2+2), restic, borg (zstd,3); ${INGEST_ROUNDS:-3} alternating rounds"
bash scripts/ingest-rounds.sh "$SR" "$CORPUS" "$W/rounds" "${INGEST_ROUNDS:-3}"
# shellcheck disable=SC1091
source "$W/rounds/medians.env"
cache=$(dropcache)

echo; echo "== strongroom bench ingest, first and unchanged pass (the vault scrub and repair use)"
dropcache >/dev/null || true
[ "$cache" = warm ] && cat_corpus
sr_json=$("$SR" bench ingest "${D[@]}" --key-file "$W/key" "$CORPUS")
echo "$sr_json"

restic_second=- borg_second=-
if command -v restic >/dev/null; then
	export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$W/rounds/restic/cache"
	t0=$(now); restic backup -q --repo "$W/rounds/restic/repo" "$CORPUS"; t1=$(now)
	restic_second=$(secs "$t0" "$t1")
fi
if command -v borg >/dev/null; then
	export BORG_PASSPHRASE=bench BORG_BASE_DIR="$W/rounds/borg/base" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
	t0=$(now); borg create --compression zstd,3 "$W/rounds/borg/repo::second" "$CORPUS"; t1=$(now)
	borg_second=$(secs "$t0" "$t1")
fi
echo "unchanged pass: restic ${restic_second}s, borg ${borg_second}s"

echo; echo "== scrub vs cat of the same shard bytes"
shard_bytes=$(find "$W"/d? -path '*/segments/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
# Three rounds, cat and scrub alternating from a dropped cache each time:
# single cold reads on this virtual disk vary by 2-3x from one run to the
# next, so the medians are compared.
cat_all=(); scrub_all=()
for round in 1 2 3; do
	dropcache >/dev/null || true
	t0=$(now); find "$W"/d? -path '*/segments/*' -type f -print0 | xargs -0 cat >/dev/null; t1=$(now)
	cat_all+=("$(secs "$t0" "$t1")")
	dropcache >/dev/null || true
	scrub_json=$("$SR" bench scrub "${D[@]}" --key-file "$W/key")
	echo "$scrub_json"
	scrub_all+=("$(jget "$scrub_json" seconds)")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
cat_s=$(median "${cat_all[@]}")
scrub_s=$(python3 -c "import sys;print(f'{float(sys.argv[1]):.2f}')" "$(median "${scrub_all[@]}")")
echo "cat: $shard_bytes bytes in ${cat_all[*]} s (median ${cat_s}s, $(mbps "$shard_bytes" "$cat_s") MB/s); scrub: ${scrub_all[*]} s (median ${scrub_s}s, $(mbps "$shard_bytes" "$scrub_s") MB/s)"

echo; echo "== repair (replace-disk) vs cp of one disk's shards"
disk_bytes=$(find "$W/d2" -path '*/segments/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
# Three rounds: each replaces the disk in slot 2 (removed) by a new empty
# directory. Baselines of the same rounds: cp of the bytes the repair
# writes, and cat of the two source disks' shards (a 2+2 rebuild reads K=2
# shards for every one it writes) plus that cp: the same bytes moved.
cp_all=(); repair_all=(); moved_all=()
old="$W/d2"
DD=(--disk "$W/d1" --disk "$old" --disk "$W/d3" --disk "$W/d4")
for round in 1 2 3; do
	dropcache >/dev/null || true
	t0=$(now); cp -r "$old/segments" "$W/cp-copy"; sync; t1=$(now)
	cp_s=$(secs "$t0" "$t1")
	cp_all+=("$cp_s")
	rm -rf "$W/cp-copy"
	dropcache >/dev/null || true
	t0=$(now); find "$W/d1" "$W/d3" -path '*/segments/*' -type f -print0 | xargs -0 cat >/dev/null; t1=$(now)
	moved_all+=("$(python3 -c "import sys;print(f'{float(sys.argv[1])+float(sys.argv[2]):.2f}')" "$(secs "$t0" "$t1")" "$cp_s")")
	chattr -R -i "$old" 2>/dev/null || true
	rm -rf "$old"
	new="$W/r$round"
	mkdir "$new"
	dropcache >/dev/null || true
	t0=$(now); "$SR" vault replace-disk "${DD[@]}" --key-file "$W/key" "$old" "$new" >/dev/null 2>&1; sync; t1=$(now)
	repair_all+=("$(secs "$t0" "$t1")")
	old=$new
	DD=(--disk "$W/d1" --disk "$old" --disk "$W/d3" --disk "$W/d4")
done
cp_s=$(median "${cp_all[@]}"); repair_s=$(median "${repair_all[@]}"); moved_s=$(median "${moved_all[@]}")
echo "cp: $disk_bytes bytes in ${cp_all[*]} s (median ${cp_s}s); cat+cp of the same bytes: ${moved_all[*]} s (median ${moved_s}s); replace-disk: ${repair_all[*]} s (median ${repair_s}s, $(mbps "$disk_bytes" "$repair_s") MB/s written)"
"$SR" vault status "${DD[@]}" --key-file "$W/key" >/dev/null 2>&1 && echo "vault healthy after the replacements" || echo "vault NOT healthy after the replacements"

sr_first=$(jget "$sr_json" first_seconds)
ratio() { python3 -c "import sys;print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}x')" "$1" "$2"; }
cat <<SUMMARY

== Summary ($(date -u +%Y-%m-%dT%H:%MZ), page cache: $cache, corpus $files files, $bytes bytes)
load average            before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the times)
first ingest, medians   strongroom ${strongroom_wall}s, ${strongroom_cpu}s CPU (${strongroom_sys}s sys), ${strongroom_rss} MiB peak RSS, ${strongroom_faults} minor faults, ${strongroom_stored} bytes stored before parity
                        restic ${restic_wall:--}s, ${restic_cpu:--}s CPU (${restic_sys:--}s sys), ${restic_rss:--} MiB, ${restic_faults:--} faults, ${restic_stored:--} bytes
                        borg ${borg_wall:--}s, ${borg_cpu:--}s CPU (${borg_sys:--}s sys), ${borg_rss:--} MiB, ${borg_faults:--} faults, ${borg_stored:--} bytes
first ingest vs restic  $( [ -n "${restic_wall:-}" ] && ratio "$restic_wall" "$strongroom_wall" || echo skipped) the speed (target >= 2x)
first ingest vs borg    $( [ -n "${borg_wall:-}" ] && echo "$(ratio "$borg_wall" "$strongroom_wall") the speed (target >= 1.2x), $(ratio "$strongroom_rss" "$borg_rss") the peak RSS (<= 2x), $(ratio "$strongroom_stored" "$borg_stored") the stored bytes (<= 1.05x), $(ratio "$strongroom_sys" "$borg_sys") the system time (<= 1x)" || echo skipped)
strongroom first pass   $(printf '%.2f' "$sr_first")s  $(jget "$sr_json" first_mbps | cut -d. -f1) MB/s (inside the process, one more run)
strongroom second pass  $(printf '%.2f' "$(jget "$sr_json" second_seconds)")s  $(jget "$sr_json" second_mbps | cut -d. -f1) MB/s (unchanged tree); restic ${restic_second}s, borg ${borg_second}s
strongroom on disk      $shard_bytes bytes of shards (2+2, with parity)
scrub vs cat            ${scrub_s}s vs ${cat_s}s, medians of 3  ($(python3 -c "import sys;print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.0f}%')" "$cat_s" "$scrub_s") of cat's speed)
repair vs cp            ${repair_s}s vs ${cp_s}s, medians of 3  ($(python3 -c "import sys;print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.0f}%')" "$cp_s" "$repair_s") of cp's speed, cp moving a third of the bytes)
repair vs cat+cp        ${repair_s}s vs ${moved_s}s, medians of 3  ($(python3 -c "import sys;print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.0f}%')" "$moved_s" "$repair_s") of the speed of cat+cp moving the same bytes)
SUMMARY

# Simulated tenant: full backup, unchanged incremental and an incremental
# after a mail burst, against realistic throttling with every Graph request
# delayed by TENANT_LATENCY; wall time against the ideal the limits allow
# (see BENCHMARKS.md). TENANT_USERS, TENANT_LATENCY, TENANT_WORKERS override.
TENANT_USERS=${TENANT_USERS:-50}
TENANT_LATENCY=${TENANT_LATENCY:-30ms}
TENANT_WORKERS=${TENANT_WORKERS:-16}
echo; echo "== strongroom bench tenant ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$SR" bench tenant --users "$TENANT_USERS" --seed 7 --throttle realistic --latency "$TENANT_LATENCY" --workers "$TENANT_WORKERS"

# Offsite copy: the copier (read sealed segments, hash, PUT under a
# COMPLIANCE lock, HEAD) against a plain parallel PUT of the same payload
# bytes to the same versitygw on loopback (goal: at least 80 %). Needs root
# (the vault's files are sealed first, as the warden does) and versitygw
# (installed into the Go bin dir by 'make deps' when missing).
command -v versitygw >/dev/null 2>&1 || [ -x "$(go env GOPATH)/bin/versitygw" ] ||
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
echo; echo "== offsite copy vs plain parallel PUT ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
# Three rounds, each copier then plain PUT, so that both see the same load.
: >"$W/offsite.txt"
for round in 1 2 3; do
	STRONGROOM_REQUIRE_S3=1 go test -run '^$' -bench BenchmarkOffsite -benchtime 3x -count 1 ./storage/offsite | tee -a "$W/offsite.txt"
done
python3 - "$W/offsite.txt" <<'PY'
import re, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    m = re.match(r'BenchmarkOffsite/way=(\S+?)-\d+\s+\d+\s+\d+ ns/op\s+([\d.]+) MB/s', line)
    if m:
        rates.setdefault(m.group(1), []).append(float(m.group(2)))
c, p = statistics.median(rates["copier"]), statistics.median(rates["plain-put"])
print(f"offsite copier {c:.0f} MB/s vs plain parallel PUT {p:.0f} MB/s (medians of 3): {100*c/p:.0f}% (goal 80%)")
PY

# Hot paths, one Go benchmark each, so that a regression shows up as a
# number: chunking, compression, sealing (encryption), shard writes, the
# index and the catalog, and parsing a Graph delta page.
echo; echo "== hot-path Go benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
go test -run '^$' -bench 'BenchmarkChunker|BenchmarkCompress$|BenchmarkSeal|BenchmarkWriteShards|BenchmarkIndexLookup|BenchmarkCatalogAdd|BenchmarkCatalogLookup|BenchmarkDeltaPageParse' \
	-benchtime 1s -count 1 ./storage/chunk ./storage/compress ./storage/keys ./storage/segment ./storage/index ./appliance/catalog ./appliance/workloads/exchange |
	grep -E '^(Benchmark|ok|FAIL)'
