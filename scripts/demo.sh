#!/usr/bin/env bash
# Demonstrates the vault on four temporary disk directories: init, store a
# tree, lose a disk, keep restoring, replace the disk, repair, and show the
# retention lock and the warden, then the offsite copy: to a real S3 server
# with Object Lock on loopback, every disk lost, restored from the bucket. Until the tenant simulator lands the data is
# a generated sample tree (or DEMO_SRC, if set). Cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

start=$(date +%s.%N)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
elapsed() { python3 -c "import sys;print(f'{float(sys.argv[2])-float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)" 2>/dev/null || echo "?"; }

step "build"
make -s build
SR="$PWD/bin/strongroom"

T=$(mktemp -d /tmp/strongroom-demo.XXXXXX)
cleanup() {
	chattr -R -i -a "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T"/disk1 "$T"/disk2 "$T"/disk3 "$T"/disk4
D=(--disk "$T/disk1" --disk "$T/disk2" --disk "$T/disk3" --disk "$T/disk4")

# A small tree that looks like a mailbox and a OneDrive: text files,
# incompressible attachments, and the same attachment in several places.
repeat() { yes "$1" | head -c "$2" || true; } # yes ends with SIGPIPE
gen_sample() {
	local src=$1 u i
	for u in 1 2 3; do
		mkdir -p "$src/mail/user$u" "$src/drive/user$u/Documents"
		for i in $(seq 1 40); do
			printf 'From: user%s@contoso.example\nSubject: quarterly budget %s\n\n' "$u" "$i" >"$src/mail/user$u/$i.eml"
			repeat "please review the attached contract before friday, regards $u/$i" $((i * 500)) >>"$src/mail/user$u/$i.eml"
		done
		head -c $((3 * 1024 * 1024)) /dev/urandom >"$src/drive/user$u/Documents/report.pdf"
		repeat "budget line $u" $((2 * 1024 * 1024)) >"$src/drive/user$u/Documents/budget.csv"
	done
	head -c $((5 * 1024 * 1024)) /dev/urandom >"$src/drive/user1/Documents/shared-deck.pptx"
	cp "$src/drive/user1/Documents/shared-deck.pptx" "$src/drive/user2/Documents/"
	cp "$src/drive/user1/Documents/shared-deck.pptx" "$src/mail/user3/attachment.pptx"
	chmod 0600 "$src/mail/user2/1.eml"
}
SRC=${DEMO_SRC:-}
if [ -z "$SRC" ]; then
	SRC="$T/source"
	gen_sample "$SRC"
fi

step "vault init (4 disks)"
"$SR" vault init "${D[@]}" --key-out "$T/recovery.key"
export STRONGROOM_KEY_FILE="$T/recovery.key"
# The warden's first round, before any backup: its trusted clock and ledger
# start here (on the appliance its service starts before the agent).
"$SR" warden seal "${D[@]}" >/dev/null 2>&1 || echo "(the warden cannot seal here: this file system or process cannot set the immutable flag)"

step "store $SRC (bench ingest: one full snapshot, then one unchanged incremental)"
out=$("$SR" bench ingest "${D[@]}" "$SRC")
echo "$out"
snap=$(sed -E 's/.*"snapshots":\["([^"]+)".*/\1/' <<<"$out")

step "snapshots"
"$SR" vault snapshots "${D[@]}"

step "status"
"$SR" vault status "${D[@]}"

step "disk 2 fails: its directory is deleted"
chattr -R -i -a "$T/disk2" 2>/dev/null || true # as a dead disk takes its seals with it
rm -rf "$T/disk2"
rc=0
"$SR" vault status "${D[@]}" || rc=$?
echo "(status exit code $rc: 3 means degraded)"
[ "$rc" = 3 ] || { echo "demo: expected exit code 3 from a degraded status"; exit 1; }

step "scrub with a lost disk"
rc=0
"$SR" vault scrub "${D[@]}" || rc=$?
echo "(scrub exit code $rc)"

step "restore from the degraded vault and compare with the source"
"$SR" vault restore "${D[@]}" "$snap" "$T/restored"
diff -r "$SRC" "$T/restored"
echo "diff -r: restored tree is identical to the source"

step "replace the lost disk with a fresh directory"
mkdir "$T/disk5"
"$SR" vault replace-disk "${D[@]}" "$T/disk2" "$T/disk5"
D=(--disk "$T/disk1" --disk "$T/disk5" --disk "$T/disk3" --disk "$T/disk4")

step "scrub --repair"
"$SR" vault scrub --repair "${D[@]}"

step "status"
"$SR" vault status "${D[@]}"

step "retention lock: keep the first snapshot 30 days, then try to delete it"
"$SR" vault retain "${D[@]}" "$snap" --for 30d
rc=0
"$SR" vault delete "${D[@]}" "$snap" || rc=$?
echo "(delete exit code $rc: refused)"

step "warden: seal files immutable, directories append-only, record them in its ledger"
if "$SR" warden seal "${D[@]}"; then
	find "$T/disk1/segments" -type f | head -n 2 | xargs -r lsattr || true
	lsattr -d "$T/disk1" "$T/disk1/snapshots" "$T/disk1/segments" || true
	rc=0
	mv "$T/disk1/snapshots" "$T/disk1/hidden" 2>/dev/null || rc=$?
	echo "(hiding snapshots/ from the warden: exit code $rc: refused)"
	"$SR" warden status "${D[@]}"
else
	echo "(this file system or process cannot set the immutable flag; skipped)"
fi

step "offsite: copy to an S3 bucket with Object Lock (versitygw on loopback), lose every disk, restore from the bucket"
VGW=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
offsite_done=0
if [ ! -x "$VGW" ]; then
	echo "(versitygw not found: 'make deps' installs it; skipped)"
elif ! "$SR" warden seal "${D[@]}" >/dev/null 2>&1; then
	echo "(the warden cannot seal here, so nothing may go offsite; skipped)"
else
	mkdir -p "$T/s3/data" "$T/s3/versions" "$T/offsite"
	port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	ROOT_ACCESS_KEY=demo ROOT_SECRET_KEY=demo-secret-key "$VGW" --port "127.0.0.1:$port" --quiet posix \
		--versioning-dir "$T/s3/versions" "$T/s3/data" >"$T/s3/log" 2>&1 &
	vgw_pid=$!
	trap 'kill $vgw_pid 2>/dev/null || true; cleanup' EXIT
	sleep 1
	# A bucket with Object Lock (and so versioning), as 'aws s3api create-bucket
	# --object-lock-enabled-for-bucket' makes one on AWS.
	curl -fsS -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user demo:demo-secret-key -X PUT \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		-H "x-amz-bucket-object-lock-enabled: true" "http://127.0.0.1:$port/demo-offsite"
	printf 'demo-secret-key\n' >"$T/offsite/secret" && chmod 600 "$T/offsite/secret"
	disks=$(printf '%s, ' "$T/disk1" "$T/disk5" "$T/disk3" "$T/disk4")
	cat >"$T/offsite.yaml" <<CFG
vault: {disks: [${disks%, }], key_file: $T/recovery.key}
offsite: {endpoint: "http://127.0.0.1:$port", bucket: demo-offsite, access_key: demo, secret_key_file: $T/offsite/secret, path_style: true, state_dir: $T/offsite}
CFG
	"$SR" offsite sync --config "$T/offsite.yaml"
	"$SR" offsite status --config "$T/offsite.yaml"
	for d in "$T"/disk*; do chattr -R -i -a "$d" 2>/dev/null || true; rm -rf "$d"; done
	echo "every disk of the vault is gone"
	"$SR" vault recover --from-offsite --config "$T/offsite.yaml" --snapshots
	"$SR" vault recover --from-offsite --config "$T/offsite.yaml" --restore "$snap" --path mail/user2 --dest "$T/from-bucket"
	diff -r "$SRC/mail/user2" "$T/from-bucket/mail/user2"
	echo "diff -r: the mailbox folder restored straight from the bucket is identical to the source"
	mkdir -p "$T/new1" "$T/new2" "$T/new3" "$T/new4"
	"$SR" vault recover --from-offsite --config "$T/offsite.yaml" --disk "$T/new1" --disk "$T/new2" --disk "$T/new3" --disk "$T/new4"
	"$SR" vault restore --disk "$T/new1" --disk "$T/new2" --disk "$T/new3" --disk "$T/new4" "$snap" "$T/rehydrated"
	diff -r "$SRC" "$T/rehydrated"
	echo "diff -r: the vault rebuilt from the bucket on 4 new disks restores the tree identical to the source"
	kill $vgw_pid 2>/dev/null || true
	offsite_done=1
fi

cat <<REPORT

== Report
- vault on 4 disk directories, layout 2+2 (survives any 2 lost disks)
- stored $(find "$SRC" -type f | wc -l) files, $(du -sh "$SRC" | cut -f1) from $SRC
- lost disk 2: status said DEGRADED (exit 3); reads kept working
- restore of snapshot $snap from the degraded vault: identical to the source (diff -r)
- replace-disk rebuilt every shard onto a fresh directory; scrub --repair: healthy
- deleting a retention-locked snapshot was refused
$([ "$offsite_done" = 1 ] && echo "- offsite: copied to an S3 Object Lock bucket; with every disk lost, a mailbox folder restored from the bucket and the vault rebuilt on new disks, both identical to the source")
- finished in $(elapsed "$start")s
REPORT
