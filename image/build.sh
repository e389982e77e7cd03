#!/bin/bash
# Builds the Strongroom appliance disk image (x86-64, UEFI).
#
#   image/build.sh            (what `make image` runs)
#
# Pipeline: mmdebstrap (Debian bookworm, minbase + what the appliance runs)
# -> dracut initramfs that opens a dm-verity root -> strongroom binary, units,
# firewall and configuration copied in, users created, apt/dpkg/perl and the
# initramfs tooling removed, kernel modules trimmed -> squashfs with fixed
# options and times -> veritysetup format with a salt and uuid derived from
# the squashfs (so the root hash depends on the content only) -> unified
# kernel image (systemd's EFI stub, objcopy) with roothash= and
# strongroom.slot= on the command line, one per slot (A and B, same kernel,
# initramfs and root) -> sbsign -> ESP (mtools): signed systemd-boot as the
# firmware's default loader, slot A's UKI as EFI/Linux/strongroom-a.efi ->
# GPT disk (sfdisk): ESP, root A, root B, state -> update bundle
# (strongroom update pack) of this root.
#
# Environment:
#   OUT                  output directory (default image/out)
#   SOURCE_DATE_EPOCH    time stamp of everything in the image (default: the
#                        commit time of HEAD)
#   STRONGROOM_BIN       the binary to ship (default bin/strongroom, built if
#                        missing)
#   SB_KEY, SB_CERT      Secure Boot signing key and certificate (PEM): the
#                        db key. When unset, a PK, KEK and db of the build's
#                        own are generated in $OUT/keys (kept between builds),
#                        with the signed variable updates (PK.auth, KEK.auth,
#                        db.auth) the box enrolls on its first power-on.
#   SB_AUTH_DIR          with SB_KEY/SB_CERT: a directory with PK.auth,
#                        KEK.auth and db.auth (efitools' sign-efi-sig-list)
#                        to enroll; without it the ESP carries no keys and the
#                        firmware's own must trust SB_CERT.
#   MIRROR               Debian mirror (default http://deb.debian.org/debian)
#   SQUASHFS_LEVEL       zstd level of the squashfs (default 15)
#   STRIP=0              ship the strongroom binary with its symbols
#   REUSE_ROOT=1         debugging: reuse $OUT/work/root, skip mmdebstrap
#   IMAGE_VERSION        version of the image (default: SOURCE_DATE_EPOCH as
#                        YYYY.MM.DD.HHMMSS, UTC). systemd-boot boots the
#                        highest version among entries with tries left, so it
#                        must grow from one release to the next.
#   BUNDLE_ONLY=1        only a new update bundle (squashfs, hash tree, the two
#                        UKIs, the .sru) from the root tree of an earlier full
#                        build in BASE (default image/out), copied into
#                        $OUT/work first (BASE is not changed); no mmdebstrap,
#                        no disk image. OUT must differ from BASE. Give it a
#                        later SOURCE_DATE_EPOCH or IMAGE_VERSION.
#
# Outputs in $OUT: strongroom.img (raw disk), strongroom.img.zst, root.squashfs
# and root.hashtree (slot A's two partitions), roothash, strongroom-a.efi and
# strongroom-b.efi (signed UKIs of the two slots), strongroom.efi (= slot A's,
# for older scripts), bootx64.efi (signed systemd-boot), strongroom-update.sru
# (update bundle, when the strongroom binary has `update pack`), layout.env
# (partition offsets), build-info.txt (sizes, root hash, version, build time).
set -euo pipefail

start=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
OUT=${OUT:-$here/out}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 1700000000)
fi
export SOURCE_DATE_EPOCH
IMAGE_VERSION=${IMAGE_VERSION:-$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y.%m.%d.%H%M%S)}
VERSION_ID=$(git -C "$repo" describe --always 2>/dev/null || echo dev)
STRONGROOM_BIN=${STRONGROOM_BIN:-$repo/bin/strongroom}
BUNDLE_ONLY=${BUNDLE_ONLY:-0}
BASE=${BASE:-$here/out}

# Partition sizes (MiB). A root slot holds the squashfs plus its hash tree.
ESP_MB=128
SLOT_MB=448
HASH_MB=32 # per slot, for the dm-verity hash tree
STATE_MB=64
SECTOR=512

log() { printf '%s [build] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap --mode=root, chroot, file owners)"
for t in mmdebstrap mksquashfs veritysetup objcopy sbsign mkfs.fat mcopy sfdisk mke2fs zstd openssl; do
	command -v "$t" >/dev/null || die "$t missing: run image/deps.sh"
done
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$stub" ] || die "$stub missing: run image/deps.sh"
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -f "$sdboot" ] || die "$sdboot missing: run image/deps.sh"
# os-release values: no blanks or quotes (systemd-boot compares versions).
# Digits and dots only: systemd-boot orders entries by it, and
# `strongroom update` must order versions the same way.
[[ "$IMAGE_VERSION" =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "IMAGE_VERSION '$IMAGE_VERSION': only digits and dots (e.g. 2026.11.26.120000)"
[[ "$VERSION_ID" =~ ^[A-Za-z0-9._~+-]+$ ]] || VERSION_ID=$(printf '%s' "$VERSION_ID" | tr -c 'A-Za-z0-9._~+-' '_')

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work="$OUT/work"
root="$work/root"
if [ "$BUNDLE_ONLY" = 1 ]; then
	# A second bundle from an earlier build's root tree. The tree is
	# copied, so BASE keeps matching its own squashfs. Everything done to
	# the tree below is idempotent on an already finished tree (installs
	# overwrite, the package removals find no dpkg lists and remove
	# nothing, the rm -rf find nothing, depmod rewrites its indexes).
	BASE=$(cd "$BASE" && pwd)
	[ "$BASE" != "$OUT" ] || die "BUNDLE_ONLY: OUT must not be BASE ($BASE)"
	[ -d "$BASE/work/root" ] && [ -f "$BASE/work/vmlinuz" ] && [ -f "$BASE/work/initrd" ] ||
		die "BUNDLE_ONLY: no root tree in $BASE/work (run a full build first)"
	prev=$(sed -n 's/^IMAGE_VERSION=//p' "$BASE/work/root/usr/lib/strongroom/image-release" 2>/dev/null || true)
	if [ -n "$prev" ] && { [ "$prev" = "$IMAGE_VERSION" ] ||
		[ "$(printf '%s\n%s\n' "$prev" "$IMAGE_VERSION" | sort -V | tail -1)" != "$IMAGE_VERSION" ]; }; then
		log "warning: IMAGE_VERSION $IMAGE_VERSION is not newer than $BASE's $prev: systemd-boot will not prefer it"
	fi
	rm -rf "$work"
	mkdir -p "$work"
	log "BUNDLE_ONLY: copying the root tree of $BASE (image $prev)"
	cp -a "$BASE/work/root" "$root"
	cp -a "$BASE/work/vmlinuz" "$BASE/work/initrd" "$work/"
	reuse=1
# REUSE_ROOT=1 (debugging only): keep the previous run's root tree and skip
# mmdebstrap.
elif [ "${REUSE_ROOT:-0}" = 1 ] && [ -d "$root" ] && [ -f "$work/vmlinuz" ]; then
	reuse=1
else
	reuse=0
	rm -rf "$work"
fi
mkdir -p "$work"

if [ ! -x "$STRONGROOM_BIN" ]; then
	log "building $STRONGROOM_BIN"
	mkdir -p "$(dirname "$STRONGROOM_BIN")"
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$STRONGROOM_BIN" ./appliance/cmd/strongroom)
fi

# Secure Boot signing key: signs systemd-boot, the UKIs and (the same key)
# update bundles; its certificate goes into the root as the certificate
# bundles are verified against.
if [ -z "${SB_KEY:-}" ] || [ -z "${SB_CERT:-}" ]; then
	keys="$OUT/keys"
	[ "$BUNDLE_ONLY" = 1 ] && keys="$BASE/keys"
	mkdir -p "$keys"
	if [ ! -f "$keys/db.key" ]; then
		log "generating Secure Boot test keys in $keys (not for production)"
		for k in PK KEK db; do
			openssl req -new -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
				-subj "/CN=Strongroom test $k/" -keyout "$keys/$k.key" -out "$keys/$k.crt" 2>/dev/null
		done
	fi
	SB_KEY="$keys/db.key"
	SB_CERT="$keys/db.crt"
fi
# What the box enrolls: signed updates of PK, KEK and db for systemd-boot's
# key enrolment (loader/keys/auto on the ESP, secure-boot-enroll force). A
# firmware in setup mode (no PK: new, or reset by the owner) gets them on
# the first power-on and from then on runs only what the db key signed;
# a firmware that has a PK ignores them.
auth_dir=${SB_AUTH_DIR:-}
if [ -z "$auth_dir" ] && [ -n "${keys:-}" ] && [ "$BUNDLE_ONLY" != 1 ]; then
	auth_dir="$keys/auth"
	if [ ! -f "$auth_dir/PK.auth" ] || [ "$auth_dir/PK.auth" -ot "$keys/db.crt" ]; then
		for t in cert-to-efi-sig-list sign-efi-sig-list; do
			command -v "$t" >/dev/null || die "$t missing: run image/deps.sh (efitools)"
		done
		mkdir -p "$auth_dir"
		# The owner GUID of the signature lists ("STRN" and a version), and
		# the time of the updates from SOURCE_DATE_EPOCH, so that the same
		# keys give the same files.
		owner=5354524e-0001-4000-8000-000000000001
		when=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')
		for k in PK KEK db; do
			cert-to-efi-sig-list -g "$owner" "$keys/$k.crt" "$auth_dir/$k.esl" >/dev/null ||
				die "cert-to-efi-sig-list $k failed"
		done
		sign-efi-sig-list -g "$owner" -t "$when" -k "$keys/PK.key" -c "$keys/PK.crt" PK "$auth_dir/PK.esl" "$auth_dir/PK.auth" >/dev/null &&
			sign-efi-sig-list -g "$owner" -t "$when" -k "$keys/PK.key" -c "$keys/PK.crt" KEK "$auth_dir/KEK.esl" "$auth_dir/KEK.auth" >/dev/null &&
			sign-efi-sig-list -g "$owner" -t "$when" -k "$keys/KEK.key" -c "$keys/KEK.crt" db "$auth_dir/db.esl" "$auth_dir/db.auth" >/dev/null ||
			die "sign-efi-sig-list failed"
	fi
fi
if [ -n "$auth_dir" ]; then
	for k in PK KEK db; do
		[ -s "$auth_dir/$k.auth" ] || die "no $k.auth in $auth_dir"
	done
fi
openssl x509 -in "$SB_CERT" -noout 2>/dev/null || die "SB_CERT $SB_CERT is not a PEM certificate"
openssl rsa -in "$SB_KEY" -passin pass: -noout 2>/dev/null ||
	die "SB_KEY $SB_KEY is not an unencrypted RSA key (bundles are signed RSA PKCS#1 v1.5)"
log "signing with $SB_KEY ($(openssl x509 -in "$SB_CERT" -noout -subject))"

# `strongroom update` (bundles, mark-good) comes with the Go side; until the
# binary has it, the bundle is skipped and strongroom-boot-ok.service is not
# enabled (a boot-ok unit whose command fails would reboot the machine).
has_update=0
if "$STRONGROOM_BIN" update pack --help >/dev/null 2>&1; then
	has_update=1
else
	log "warning: $STRONGROOM_BIN has no 'update pack' yet: no update bundle, strongroom-boot-ok.service not enabled (make build picks it up once it lands)"
fi

# ---------------------------------------------------------------- root tree
cache="$OUT/apt-cache"
mkdir -p "$cache"
if [ $reuse = 0 ]; then
log "mmdebstrap $SUITE (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
t0=$(date +%s)
mmdebstrap --mode=root --variant=minbase --format=directory \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/lintian/*' \
	--include=systemd,systemd-sysv,systemd-resolved,chrony,udev,dbus \
	--include=linux-image-amd64,dracut,nftables,netbase,iproute2,e2fsprogs,ca-certificates,kbd \
	--include=libtss2-esys-3.0.2-0,libtss2-mu0,libtss2-rc0,libtss2-tcti-device0 \
	--setup-hook='mkdir -p "$1/etc/dracut.conf.d"' \
	--setup-hook="cp '$here/dracut.conf' \"\$1/etc/dracut.conf.d/strongroom.conf\"" \
	--skip=download/empty --skip=essential/unlink \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives/"' \
	--setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$cache'" \
	"$SUITE" "$root" "$MIRROR" >"$work/mmdebstrap.log" 2>&1 ||
	{ tail -40 "$work/mmdebstrap.log"; die "mmdebstrap failed (log: $work/mmdebstrap.log)"; }
log "mmdebstrap took $(($(date +%s) - t0)) s"

# The console's fonts: Terminus in every size (6 KB each), taken from
# console-setup-linux without the package (its keyboard-configuration and
# debconf are not wanted); kbd's setfont loads the one that makes 80x25
# fill the monitor (strongroom console --fit-font).
(cd "$work" && apt-get download -q console-setup-linux >/dev/null) ||
	die "apt-get download console-setup-linux failed (run image/deps.sh, which runs apt-get update)"
dpkg-deb --fsys-tarfile "$work"/console-setup-linux_*.deb |
	tar -x -C "$root" --wildcards './usr/share/consolefonts/Uni2-Terminus[0-9]*'
ls "$root"/usr/share/consolefonts/Uni2-Terminus32x16.psf.gz >/dev/null || die "no Terminus fonts in the root"

kver=$(ls "$root/lib/modules" | sort -V | tail -1)
[ -n "$kver" ] || die "no kernel in the root"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd"
lsinitrd_out=$(chroot "$root" lsinitrd "/boot/initrd.img-$kver" 2>/dev/null || true)
echo "$lsinitrd_out" >"$work/initrd.list"
# grep reads the saved list, not a pipe: with pipefail, 'echo | grep -q' fails
# whenever grep matches and exits before echo has written everything (SIGPIPE).
grep -q 'systemd-veritysetup' "$work/initrd.list" || die "initramfs has no systemd-veritysetup (see $work/initrd.list)"
grep -q 'dm-verity' "$work/initrd.list" || die "initramfs has no dm-verity module"
fi
kver=$(ls "$root/lib/modules" | sort -V | tail -1)

log "installing strongroom, units and configuration"
install -m 0755 "$STRONGROOM_BIN" "$root/usr/bin/strongroom"
# Symbols and DWARF are 19 MB of the binary (11 MB compressed); Go's own
# tables for stack traces stay. STRIP=0 keeps them.
[ "${STRIP:-1}" = 0 ] || strip --strip-all "$root/usr/bin/strongroom"
for u in "$repo"/systemd/*.service "$repo"/systemd/*.target "$repo"/systemd/*.path; do
	install -m 0644 "$u" "$root/usr/lib/systemd/system/"
done
install -D -m 0644 "$repo/systemd/strongroom.sysusers" "$root/usr/lib/sysusers.d/strongroom.conf"
install -D -m 0644 "$repo/systemd/strongroom.tmpfiles" "$root/usr/lib/tmpfiles.d/strongroom.conf"
(cd "$here/rootfs" && find . -type f) | while read -r f; do
	install -D -m 0644 "$here/rootfs/$f" "$root/$f"
done
chmod 0755 "$root/etc/nftables.conf"
# The configuration lives on the state partition; /etc/strongroom points
# there, and so does /etc/systemd/network (the wizard's network settings).
rm -rf "$root/etc/strongroom" "$root/etc/systemd/network"
ln -s /var/lib/strongroom/config "$root/etc/strongroom"
ln -s /var/lib/strongroom/network "$root/etc/systemd/network"
mkdir -p "$root/var/lib/strongroom" "$root/srv/strongroom" "$root/efi"
for i in 1 2 3 4; do mkdir -p "$root/srv/strongroom/disk$i"; done
# What this image is (read by the agent and `strongroom update status`), and
# the certificate update bundles must be signed with.
mkdir -p "$root/usr/lib/strongroom"
printf 'IMAGE_ID=strongroom\nIMAGE_VERSION=%s\nVERSION_ID=%s\nSOURCE_DATE_EPOCH=%s\n' \
	"$IMAGE_VERSION" "$VERSION_ID" "$SOURCE_DATE_EPOCH" >"$root/usr/lib/strongroom/image-release"
chmod 0644 "$root/usr/lib/strongroom/image-release"
install -D -m 0644 "$SB_CERT" "$root/usr/share/strongroom/update-signing.pem"

# Users from sysusers.d (fixed ids), now: /etc is read-only at run time.
systemd-sysusers --root="$root" >/dev/null
# sysusers quietly picks another id when a fixed one is taken; the state
# partition and the data disks (and the warden's separation from the agent)
# depend on these.
for u in strongroom:800:800 strongroom-warden:801:801 strongroom-offsite:802:802; do
	grep -q "^${u%%:*}:x:${u#*:}:" "$root/etc/passwd" ||
		die "user ${u%%:*} is not ${u#*:} (uid:gid) in the root: $(grep "^${u%%:*}:" "$root/etc/passwd" || echo missing)"
	grep -q "^${u%%:*}:x:${u##*:}:" "$root/etc/group" || die "group ${u%%:*} is not ${u##*:} in the root"
done
# An empty machine-id: systemd makes a transient one at boot on a read-only /.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

log "enabling units"
# chrony ships a SysV script too: with it, enabling the unit asks
# update-rc.d, which goes with perl below (and is gone from a root that
# BUNDLE_ONLY reuses). The native unit is all systemd needs.
rm -f "$root/etc/init.d/chrony"
systemctl --root="$root" enable strongroom-agent.service strongroom-warden.service strongroom-offsite.service \
	strongroom-console.service strongroom-update.service strongroom-config.path strongroom-offsite.path strongroom-drill.service \
	systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service \
	chrony.service nftables.service >"$work/enable.log" 2>&1 ||
	{ cat "$work/enable.log"; die "enabling the units failed (log above)"; }
# chrony (NTS) keeps the time, not systemd-timesyncd: see
# rootfs/etc/chrony/chrony.conf. Nothing waits for it to synchronise.
systemctl --root="$root" disable chrony-wait.service >/dev/null 2>&1 || true
# No login anywhere: the console owns tty1, nothing listens on serial.
systemctl --root="$root" mask getty@tty1.service serial-getty@.service getty.target \
	systemd-random-seed.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service >/dev/null 2>&1
systemctl --root="$root" set-default multi-user.target >/dev/null 2>&1
if [ $has_update = 1 ]; then
	systemctl --root="$root" enable strongroom-boot-ok.service >/dev/null 2>&1
else
	systemctl --root="$root" disable strongroom-boot-ok.service >/dev/null 2>&1 || true
fi

log "removing the package manager, perl and the initramfs tools"
for p in apt libapt-pkg6.0 dpkg perl-base perl perl-modules-5.36 libperl5.36 debconf dracut dracut-core adduser; do
	list="$root/var/lib/dpkg/info/$p.list"
	[ -f "$list" ] || list="$root/var/lib/dpkg/info/$p:amd64.list"
	[ -f "$list" ] || continue
	while read -r f; do
		# Directories, and the merged-/usr links (/lib, /bin, /sbin) that
		# the lists name as directories, stay.
		[ -d "$root$f" ] && continue
		if [ -f "$root$f" ] || [ -L "$root$f" ]; then rm -f "$root$f"; fi
	done <"$list"
done
rm -rf "$root/var/lib/dpkg" "$root/var/lib/apt" "$root/var/cache/apt" "$root/var/cache/debconf" \
	"$root/etc/apt" "$root/etc/dpkg" "$root/var/log"/* "$root/var/cache/ldconfig/aux-cache" \
	"$root/etc/dracut.conf.d" "$root/usr/lib/dracut" "$root/boot"/* \
	"$root/etc/kernel" "$root/usr/share/bug" "$root/etc/cron.daily" \
	"$root/usr/share/perl" "$root/usr/share/perl5" "$root/usr/lib/x86_64-linux-gnu/perl" "$root/usr/lib/x86_64-linux-gnu/perl-base"
mkdir -p "$root/var/log"
rm -f "$root"/initrd.img* "$root"/vmlinuz*

log "trimming kernel modules"
mods="$root/lib/modules/$kver/kernel"
for d in sound drivers/media drivers/gpu/drm/amd drivers/gpu/drm/nouveau drivers/gpu/drm/i915 \
	drivers/gpu/drm/radeon drivers/net/wireless net/wireless net/mac80211 drivers/infiniband \
	net/bluetooth drivers/bluetooth drivers/staging drivers/isdn drivers/iio drivers/net/can \
	net/can drivers/input/touchscreen drivers/mtd fs/ocfs2 fs/gfs2 fs/ceph fs/nfs fs/nfsd \
	fs/smb fs/ubifs fs/jffs2 fs/f2fs fs/nilfs2 fs/reiserfs fs/jfs fs/afs fs/coda fs/9p \
	drivers/atm net/atm drivers/net/wan drivers/net/usb/qmi_wwan.ko drivers/net/hamradio \
	net/6lowpan net/ieee802154 drivers/net/ieee802154 net/nfc drivers/nfc drivers/usb/serial \
	drivers/hid/intel-ish-hid drivers/platform/chrome drivers/pcmcia drivers/memstick \
	drivers/mmc drivers/leds drivers/w1 drivers/comedi; do
	rm -rf "${mods:?}/$d"
done
chroot "$root" depmod -a "$kver"
# Files systemd or depmod regenerate with time stamps or in random order.
rm -f "$root/var/lib/systemd/catalog/database"

# Time stamps: mksquashfs -all-time sets every one to SOURCE_DATE_EPOCH.
du -sm "$root" | awk '{print "root tree: " $1 " MiB"}' >&2

# ---------------------------------------------------------- squashfs+verity
log "mksquashfs"
t0=$(date +%s)
env -u SOURCE_DATE_EPOCH mksquashfs "$root" "$OUT/root.squashfs" -noappend -quiet -comp zstd -Xcompression-level "${SQUASHFS_LEVEL:-15}" -b 1M \
	-no-xattrs -all-time "$SOURCE_DATE_EPOCH" -mkfs-time "$SOURCE_DATE_EPOCH" \
	-processors "$(nproc)" >/dev/null
log "mksquashfs took $(($(date +%s) - t0)) s"

sq_size=$(stat -c %s "$OUT/root.squashfs")
# The hash tree goes to its own partition: systemd 252's veritysetup cannot
# take a hash offset inside the data partition (hash-offset= came in 254).
# Data padded to whole 4 KiB blocks.
data_size=$(((sq_size + 4095) / 4096 * 4096))
truncate -s "$data_size" "$OUT/root.squashfs"
[ "$data_size" -le $((SLOT_MB * 1024 * 1024)) ] || die "root ($data_size bytes) does not fit a ${SLOT_MB} MiB slot"
digest=$(sha256sum "$OUT/root.squashfs" | cut -d' ' -f1)
salt=$digest
uuid=$(echo "$digest" | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')
rm -f "$OUT/root.hashtree"
veritysetup format "$OUT/root.squashfs" "$OUT/root.hashtree" \
	--data-block-size=4096 --hash-block-size=4096 --salt="$salt" --uuid="$uuid" \
	>"$work/verity.txt"
roothash=$(sed -n 's/^Root hash:[[:space:]]*//p' "$work/verity.txt")
[ -n "$roothash" ] || die "no root hash from veritysetup"
echo "$roothash" >"$OUT/roothash"
verity_size=$(stat -c %s "$OUT/root.hashtree")
[ "$verity_size" -le $((HASH_MB * 1024 * 1024)) ] || die "hash tree ($verity_size bytes) does not fit ${HASH_MB} MiB"
log "root hash $roothash"

# ------------------------------------------------------------------- UKI
# The root slot and its hash tree are found by partition label; the slot
# letter is on the command line too (strongroom.slot=), so the running system
# knows which slot it is and an update writes the other one.
# panic-on-corruption: a root that does not match the signed hash stops the
# machine instead of running it. rd.shell=0 rd.emergency=reboot: an initramfs
# that cannot set up the root (a missing or unreadable slot) restarts
# instead of waiting at an emergency prompt, so systemd-boot counts the try
# and falls back to the other slot by itself.
slot_cmdline() { # slot letter
	echo "roothash=$roothash systemd.verity_root_data=/dev/disk/by-partlabel/sr-root-$1" \
		"systemd.verity_root_hash=/dev/disk/by-partlabel/sr-verity-$1" \
		"systemd.verity_root_options=panic-on-corruption strongroom.slot=$1" \
		"root=/dev/mapper/root rootfstype=squashfs ro systemd.gpt_auto=0 panic=10 rd.shell=0 rd.emergency=reboot" \
		"console=tty1 console=ttyS0,115200 loglevel=4 rd.systemd.show_status=auto"
}
# .osrel: systemd-boot sorts EFI/Linux entries by IMAGE_ID, then by
# IMAGE_VERSION descending (entries without tries left last), and shows
# PRETTY_NAME.
osrelease() { # slot letter
	cat <<EOF
NAME="Strongroom"
ID=strongroom
ID_LIKE=debian
IMAGE_ID=strongroom
IMAGE_VERSION=$IMAGE_VERSION
VERSION_ID="$VERSION_ID"
VERSION="$IMAGE_VERSION ($VERSION_ID)"
PRETTY_NAME="Strongroom $IMAGE_VERSION (slot $(echo "$1" | tr a-z A-Z))"
EOF
}
# Section addresses after the stub's own sections, each aligned to 4 KiB.
align() { echo $((($1 + 4095) / 4096 * 4096)); }
stub_end=0
while read -r size vma; do
	e=$((16#$size + 16#$vma))
	[ "$e" -gt "$stub_end" ] && stub_end=$e
done < <(objdump -h "$stub" | awk 'NF == 7 && $1 ~ /^[0-9]+$/ { print $3, $4 }')
build_uki() { # slot letter -> $OUT/strongroom-<slot>.efi, signed
	local slot=$1 osrel cmdl linux initrd
	slot_cmdline "$slot" | tr -d '\n' >"$work/cmdline-$slot.txt"
	osrelease "$slot" >"$work/os-release-$slot"
	osrel=$(align "$stub_end")
	cmdl=$(align $((osrel + $(stat -c %s "$work/os-release-$slot"))))
	linux=$(align $((cmdl + $(stat -c %s "$work/cmdline-$slot.txt"))))
	initrd=$(align $((linux + $(stat -c %s "$work/vmlinuz"))))
	objcopy \
		--add-section .osrel="$work/os-release-$slot" --change-section-vma .osrel="$(printf 0x%x "$osrel")" \
		--add-section .cmdline="$work/cmdline-$slot.txt" --change-section-vma .cmdline="$(printf 0x%x "$cmdl")" \
		--add-section .linux="$work/vmlinuz" --change-section-vma .linux="$(printf 0x%x "$linux")" \
		--add-section .initrd="$work/initrd" --change-section-vma .initrd="$(printf 0x%x "$initrd")" \
		"$stub" "$work/uki-$slot.efi"
	sbsign --key "$SB_KEY" --cert "$SB_CERT" --output "$OUT/strongroom-$slot.efi" "$work/uki-$slot.efi" 2>/dev/null
	sbverify --cert "$SB_CERT" "$OUT/strongroom-$slot.efi" >/dev/null 2>&1 || die "signed UKI of slot $slot does not verify"
}
log "UKIs of slots A and B (image $IMAGE_VERSION, $VERSION_ID)"
build_uki a
build_uki b
cp "$OUT/strongroom-a.efi" "$OUT/strongroom.efi"

# ------------------------------------------------------------------ bundle
# The update bundle of this root: what `strongroom update apply` writes to
# the other slot. Signed with the Secure Boot key (RSA PKCS#1 v1.5, SHA-256
# over the manifest); the image verifies it against update-signing.pem.
bundle="$OUT/strongroom-update.sru"
make_bundle() {
	rm -f "$bundle"
	if [ $has_update = 0 ]; then
		log "warning: skipping the update bundle ($STRONGROOM_BIN has no 'update pack')"
		return 0
	fi
	log "update bundle"
	"$STRONGROOM_BIN" update pack --squashfs "$OUT/root.squashfs" --verity "$OUT/root.hashtree" \
		--uki-a "$OUT/strongroom-a.efi" --uki-b "$OUT/strongroom-b.efi" \
		--key "$SB_KEY" --out "$bundle" || die "strongroom update pack failed"
}
bundle_info() {
	if [ -f "$bundle" ]; then
		echo "update bundle:      $(stat -c %s "$bundle") bytes ($(($(stat -c %s "$bundle") / 1024 / 1024)) MiB)"
	else
		echo "update bundle:      none ($STRONGROOM_BIN has no 'update pack')"
	fi
}

if [ "$BUNDLE_ONLY" = 1 ]; then
	make_bundle
	end_t=$(date +%s)
	{
		echo "BUNDLE_ONLY from:   $BASE"
		echo "image version:      $IMAGE_VERSION ($VERSION_ID)"
		echo "root hash:          $roothash"
		echo "SOURCE_DATE_EPOCH:  $SOURCE_DATE_EPOCH"
		echo "squashfs:           $sq_size bytes ($((sq_size / 1024 / 1024)) MiB)"
		echo "verity hash tree:   $verity_size bytes"
		echo "UKI (signed):       $(stat -c %s "$OUT/strongroom-a.efi") bytes ($(($(stat -c %s "$OUT/strongroom-a.efi") / 1024 / 1024)) MiB) per slot"
		bundle_info
		echo "build time:         $((end_t - start)) s"
	} | tee "$OUT/build-info.txt"
	exit 0
fi

# ------------------------------------------------------------------- disk
# ESP: the firmware's default path holds systemd-boot, signed with the same
# key as the UKIs (the firmware verifies it; it has the firmware verify the
# UKI it starts). It boots the EFI/Linux entry sorted first: entries whose
# boot counter ran out (name+0-N.efi) last, then the highest IMAGE_VERSION.
# Slot A's entry has no counter: it is known good. An update adds
# strongroom-<slot>+3.efi (three tries); `update mark-good` renames it to
# strongroom-<slot>.efi once the new system is healthy.
log "ESP and GPT disk"
sbsign --key "$SB_KEY" --cert "$SB_CERT" --output "$OUT/bootx64.efi" "$sdboot" 2>/dev/null
sbverify --cert "$SB_CERT" "$OUT/bootx64.efi" >/dev/null 2>&1 || die "signed systemd-boot does not verify"
# No default: the first entry in systemd-boot's order boots. No menu, no
# command line editing (with Secure Boot the UKI ignores one anyway), no
# automatic entries for other loaders or the firmware setup. With keys to
# enroll: enroll them by itself when the firmware is in setup mode.
printf 'timeout 0\neditor no\nauto-entries no\nauto-firmware no\n' >"$work/loader.conf"
[ -z "$auth_dir" ] || echo 'secure-boot-enroll force' >>"$work/loader.conf"
esp="$work/esp.img"
rm -f "$esp"
mkfs.fat -C -F 32 -n STRONGROOM -i 5354524e --invariant "$esp" $((ESP_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$esp" "$OUT/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$work/loader.conf" ::/loader/loader.conf
if [ -n "$auth_dir" ]; then
	mmd -i "$esp" ::/loader/keys ::/loader/keys/auto
	for k in PK KEK db; do mcopy -i "$esp" "$auth_dir/$k.auth" "::/loader/keys/auto/$k.auth"; done
fi
mcopy -i "$esp" "$OUT/strongroom-a.efi" ::/EFI/Linux/strongroom-a.efi
# An update needs room for the other slot's UKI and a temporary copy.
uki_size=$(stat -c %s "$OUT/strongroom-b.efi")
esp_free_bytes=$(mdir -i "$esp" ::/ 2>/dev/null | sed -n 's/ bytes free.*//p' | tr -dc 0-9)
[ "$esp_free_bytes" -ge $((2 * uki_size)) ] || die "ESP has $esp_free_bytes bytes free, an update needs $((2 * uki_size))"

state="$work/state.img"
statedir="$work/state"
mkdir -p "$statedir/config" "$statedir/state" "$statedir/network" "$statedir/warden" "$statedir/offsite"
chown 800:800 "$statedir" "$statedir/state"
chown 0:800 "$statedir/config"
chown 801:801 "$statedir/warden"
chown 802:802 "$statedir/offsite"
chmod 0751 "$statedir"
chmod 0750 "$statedir/config"
chmod 0700 "$statedir/state"
chmod 0755 "$statedir/warden"
chmod 0755 "$statedir/offsite"
rm -f "$state"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -t ext4 -L sr-state -U 5354524e-0000-4000-8000-000000000003 \
	-E hash_seed=5354524e-0000-4000-8000-000000000004,root_owner=800:800 -d "$statedir" "$state" "${STATE_MB}M"

img="$OUT/strongroom.img"
rm -f "$img"
# 1 MiB alignment; the backup GPT needs the last 33 sectors.
total_mb=$((1 + ESP_MB + 2 * (SLOT_MB + HASH_MB) + STATE_MB + 1))
truncate -s "${total_mb}M" "$img"
s() { echo $(($1 * 2048)); } # MiB -> sectors
esp_at=1
a_at=$((esp_at + ESP_MB))
ah_at=$((a_at + SLOT_MB))
b_at=$((ah_at + HASH_MB))
bh_at=$((b_at + SLOT_MB))
state_at=$((bh_at + HASH_MB))
sfdisk -q --no-reread --no-tell-kernel "$img" <<EOF
label: gpt
label-id: 5354524E-0000-4000-8000-000000000000
unit: sectors
first-lba: 2048

start=$(s $esp_at), size=$(s $ESP_MB), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=5354524E-0000-4000-8000-0000000000E5, name="esp"
start=$(s $a_at), size=$(s $SLOT_MB), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5354524E-0000-4000-8000-00000000000A, name="sr-root-a"
start=$(s $ah_at), size=$(s $HASH_MB), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5354524E-0000-4000-8000-0000000000AF, name="sr-verity-a"
start=$(s $b_at), size=$(s $SLOT_MB), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5354524E-0000-4000-8000-00000000000B, name="sr-root-b"
start=$(s $bh_at), size=$(s $HASH_MB), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5354524E-0000-4000-8000-0000000000BF, name="sr-verity-b"
start=$(s $state_at), size=$(s $STATE_MB), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5354524E-0000-4000-8000-000000000005, name="sr-state"
EOF
dd if="$esp" of="$img" bs=1M seek=$esp_at conv=notrunc,sparse status=none
dd if="$OUT/root.squashfs" of="$img" bs=1M seek=$a_at conv=notrunc,sparse status=none
dd if="$OUT/root.hashtree" of="$img" bs=1M seek=$ah_at conv=notrunc,sparse status=none
dd if="$state" of="$img" bs=1M seek=$state_at conv=notrunc,sparse status=none
# Facts the firmware tests (and a future update command) need.
cat >"$OUT/layout.env" <<EOF
ESP_OFFSET=$((esp_at * 1048576))
ESP_SIZE=$((ESP_MB * 1048576))
SLOT_SIZE=$((SLOT_MB * 1048576))
HASH_SIZE=$((HASH_MB * 1048576))
SLOT_A_OFFSET=$((a_at * 1048576))
HASH_A_OFFSET=$((ah_at * 1048576))
SLOT_B_OFFSET=$((b_at * 1048576))
HASH_B_OFFSET=$((bh_at * 1048576))
STATE_OFFSET=$((state_at * 1048576))
SQUASHFS_SIZE=$sq_size
VERITY_DATA_SIZE=$data_size
ROOTHASH=$roothash
IMAGE_VERSION=$IMAGE_VERSION
EOF

log "compressing"
zstd -q -f -T0 -12 --long=27 "$img" -o "$img.zst"

make_bundle

end_t=$(date +%s)
{
	echo "image version:      $IMAGE_VERSION ($VERSION_ID)"
	echo "root hash:          $roothash"
	echo "SOURCE_DATE_EPOCH:  $SOURCE_DATE_EPOCH"
	echo "kernel:             $kver"
	echo "squashfs:           $sq_size bytes ($((sq_size / 1024 / 1024)) MiB)"
	echo "verity hash tree:   $verity_size bytes"
	echo "initramfs:          $(stat -c %s "$work/initrd") bytes"
	echo "UKI (signed):       $(stat -c %s "$OUT/strongroom-a.efi") bytes ($(($(stat -c %s "$OUT/strongroom-a.efi") / 1024 / 1024)) MiB) per slot"
	echo "ESP free:           $esp_free_bytes bytes"
	echo "disk image (raw):   $(stat -c %s "$img") bytes"
	echo "disk image (zstd):  $(stat -c %s "$img.zst") bytes ($(($(stat -c %s "$img.zst") / 1024 / 1024)) MiB)"
	bundle_info
	echo "build time:         $((end_t - start)) s"
} | tee "$OUT/build-info.txt"
