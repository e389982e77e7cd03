#!/usr/bin/env bash
# First ingest of one corpus by Strongroom (strongroom bench ingest on four
# disk directories: 2+2 erasure coding), restic and borg (zstd level 3),
# ROUNDS times each, the tools alternating, each run on a fresh repository
# from a dropped page cache (warm for all when caches cannot be dropped),
# under /usr/bin/time -v. Prints one line per run, then the medians, and
# writes them to WORKDIR/medians.env for scripts/bench.sh. A tool that is
# not installed is skipped.
#
#   usage: scripts/ingest-rounds.sh STRONGROOM_BINARY CORPUS WORKDIR [ROUNDS]
#
# With SR_BEFORE=OTHER_BINARY, that build runs too, as strongroom-before,
# in the same rounds: before/after figures of a change under one load.
#
# Figures per run: wall seconds of the whole process (for Strongroom this
# includes creating the vault and the unchanged second pass, which is under
# 1 % of it), user and system CPU seconds, peak RSS, minor page faults, and
# stored bytes before parity: Strongroom's data shards (disks 1 and 2 of
# the 2+2 layout, shard headers and block CRCs included), the whole
# repository for restic and borg. WORKDIR/sr keeps the last Strongroom
# vault (disks d1..d4 and its key).
set -euo pipefail
SR=$1 CORPUS=$2 W=$3 ROUNDS=${4:-3}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ ! -x /usr/bin/time ]; then
	echo "ingest-rounds: /usr/bin/time is missing (Debian package: time)" >&2
	exit 1
fi
mkdir -p "$W"
cache=warm
if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then cache=cold; fi
prepare() {
	sync
	if [ "$cache" = cold ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		find "$CORPUS" -type f -print0 | xargs -0 cat >/dev/null
	fi
}
tools=(strongroom)
[ -n "${SR_BEFORE:-}" ] && tools+=(strongroom-before)
for t in restic borg; do
	if command -v "$t" >/dev/null; then tools+=("$t"); else echo "ingest-rounds: $t not installed, skipped"; fi
done
export RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes

# run TOOL: one fresh first ingest; prints "TOOL wall user sys rss_kib minflt stored".
run() {
	local t=$1 dir="$W/$1" stored
	chattr -R -i "$dir" 2>/dev/null || true
	rm -rf "$dir"
	mkdir -p "$dir"
	local cmd
	case $t in
	strongroom*)
		local bin=$SR
		[ "$t" = strongroom-before ] && bin=$SR_BEFORE
		mkdir -p "$dir"/d1 "$dir"/d2 "$dir"/d3 "$dir"/d4
		cmd=("$bin" bench ingest --disk "$dir/d1" --disk "$dir/d2" --disk "$dir/d3" --disk "$dir/d4" --key-file "$dir/key" "$CORPUS") ;;
	restic)
		export RESTIC_CACHE_DIR="$dir/cache"
		restic init -q --repo "$dir/repo"
		cmd=(restic backup -q --repo "$dir/repo" "$CORPUS") ;;
	borg)
		export BORG_BASE_DIR="$dir/base"
		borg init -e repokey "$dir/repo" 2>/dev/null
		cmd=(borg create --compression zstd,3 "$dir/repo::first" "$CORPUS") ;;
	esac
	prepare
	/usr/bin/time -v -o "$W/time.txt" "${cmd[@]}" >"$W/out.txt" 2>"$W/err.txt" || { cat "$W/err.txt" >&2; return 1; }
	case $t in
	strongroom*) stored=$(find "$dir/d1" "$dir/d2" -path '*/segments/*' -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}') ;;
	*) stored=$(du -sb "$dir/repo" | cut -f1) ;;
	esac
	"$PY" - "$t" "$stored" "$W/time.txt" <<'EOF'
import sys
t, stored, path = sys.argv[1], sys.argv[2], sys.argv[3]
f = {}
for line in open(path):
    k, _, v = line.strip().rpartition(": ")
    f[k] = v
wall = 0.0
for part in f["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
    wall = wall * 60 + float(part)
print(t, f"{wall:.2f}", f["User time (seconds)"], f["System time (seconds)"],
      int(f["Maximum resident set size (kbytes)"]) // 1024, f["Minor (reclaiming a frame) page faults"], stored)
EOF
}

echo "page cache: $cache; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tool wall_s user_s sys_s peak_rss_MiB minor_faults stored_bytes"
: >"$W/rounds.txt"
for round in $(seq "$ROUNDS"); do
	for t in "${tools[@]}"; do
		run "$t" | tee -a "$W/rounds.txt"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$W/rounds.txt" "$W/medians.env" "$(find "$CORPUS" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, *v = line.split()
    rows.setdefault(t, []).append([float(x) for x in v])
corpus = int(sys.argv[3])
med = {t: [statistics.median(col) for col in zip(*r)] for t, r in rows.items()}
out = []
print(f"medians of {max(len(r) for r in rows.values())} rounds ({corpus} bytes of corpus):")
for t, (wall, user, sys_, rss, flt, stored) in med.items():
    print(f"  {t:10s} wall {wall:6.2f} s  cpu {user + sys_:6.2f} s (sys {sys_:.2f}, {sys_ / corpus * 1e9:.2f} s/GB)  "
          f"peak RSS {rss:5.0f} MiB  minor faults {flt:8.0f}  stored {stored / 1e6:7.1f} MB")
    t = t.replace("-", "_")
    out += [f"{t}_wall={wall:.2f}", f"{t}_cpu={user + sys_:.2f}", f"{t}_sys={sys_:.2f}", f"{t}_rss={rss:.0f}",
            f"{t}_faults={flt:.0f}", f"{t}_stored={stored:.0f}"]
sr = med["strongroom"]
for t in ("strongroom-before", "restic", "borg"):
    if t in med:
        o = med[t]
        print(f"  strongroom vs {t}: {o[0] / sr[0]:.2f}x the speed, {sr[3] / o[3]:.2f}x the peak RSS, "
              f"{sr[5] / o[5]:.2f}x the stored bytes, {sr[2] / o[2] if o[2] else float('inf'):.2f}x the system time")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
