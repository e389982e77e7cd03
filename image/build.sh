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
# kernel image (systemd's EFI stub, objcopy) with roothash= on the command
# line -> sbsign -> ESP (mtools) -> GPT disk (sfdisk): ESP, root A, root B,
# state.
#
# Environment:
#   OUT                  output directory (default image/out)
#   SOURCE_DATE_EPOCH    time stamp of everything in the image (default: the
#                        commit time of HEAD)
#   STRONGROOM_BIN       the binary to ship (default bin/strongroom, built if
#                        missing)
#   SB_KEY, SB_CERT      Secure Boot signing key and certificate (PEM). When
#                        unset, a test key pair is generated in $OUT/keys
#                        (kept between builds).
#   MIRROR               Debian mirror (default http://deb.debian.org/debian)
#   SQUASHFS_LEVEL       zstd level of the squashfs (default 15)
#   STRIP=0              ship the strongroom binary with its symbols
#   REUSE_ROOT=1         debugging: reuse $OUT/work/root, skip mmdebstrap
#
# Outputs in $OUT: strongroom.img (raw disk), strongroom.img.zst, root.squashfs,
# root.verity (squashfs + hash tree, as written to slot A), roothash,
# strongroom.efi (signed UKI), build-info.txt (sizes, root hash, build time).
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
STRONGROOM_BIN=${STRONGROOM_BIN:-$repo/bin/strongroom}

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

mkdir -p "$OUT"
work="$OUT/work"
root="$work/root"
# REUSE_ROOT=1 (debugging only): keep the previous run's root tree and skip
# mmdebstrap.
if [ "${REUSE_ROOT:-0}" = 1 ] && [ -d "$root" ] && [ -f "$work/vmlinuz" ]; then
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
	--include=systemd,systemd-sysv,systemd-resolved,systemd-timesyncd,udev,dbus \
	--include=linux-image-amd64,dracut,nftables,netbase,iproute2,e2fsprogs,ca-certificates \
	--setup-hook='mkdir -p "$1/etc/dracut.conf.d"' \
	--setup-hook="cp '$here/dracut.conf' \"\$1/etc/dracut.conf.d/strongroom.conf\"" \
	--skip=download/empty --skip=essential/unlink \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives/"' \
	--setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$cache'" \
	"$SUITE" "$root" "$MIRROR" >"$work/mmdebstrap.log" 2>&1 ||
	{ tail -40 "$work/mmdebstrap.log"; die "mmdebstrap failed (log: $work/mmdebstrap.log)"; }
log "mmdebstrap took $(($(date +%s) - t0)) s"

kver=$(ls "$root/lib/modules" | sort -V | tail -1)
[ -n "$kver" ] || die "no kernel in the root"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd"
lsinitrd_out=$(chroot "$root" lsinitrd "/boot/initrd.img-$kver" 2>/dev/null || true)
echo "$lsinitrd_out" >"$work/initrd.list"
echo "$lsinitrd_out" | grep -q 'systemd-veritysetup' || die "initramfs has no systemd-veritysetup (see $work/initrd.list)"
echo "$lsinitrd_out" | grep -q 'dm-verity' || die "initramfs has no dm-verity module"
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
mkdir -p "$root/var/lib/strongroom" "$root/srv/strongroom"
for i in 1 2 3 4; do mkdir -p "$root/srv/strongroom/disk$i"; done

# Users from sysusers.d (fixed ids), now: /etc is read-only at run time.
systemd-sysusers --root="$root" >/dev/null
# An empty machine-id: systemd makes a transient one at boot on a read-only /.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

log "enabling units"
systemctl --root="$root" enable strongroom-agent.service strongroom-warden.service \
	strongroom-console.service strongroom-config.path \
	systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service \
	systemd-timesyncd.service nftables.service >/dev/null 2>&1
# No login anywhere: the console owns tty1, nothing listens on serial.
systemctl --root="$root" mask getty@tty1.service serial-getty@.service getty.target \
	systemd-random-seed.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service >/dev/null 2>&1
systemctl --root="$root" set-default multi-user.target >/dev/null 2>&1

log "removing the package manager, perl and the initramfs tools"
for p in apt libapt-pkg6.0 dpkg perl-base perl perl-modules-5.36 libperl5.36 debconf dracut dracut-core; do
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
# The root slot and its hash tree are found by partition label.
# panic-on-corruption: a root that does not match the signed hash stops the
# machine instead of running it.
slot_cmdline() { # slot letter
	echo "roothash=$roothash systemd.verity_root_data=/dev/disk/by-partlabel/sr-root-$1" \
		"systemd.verity_root_hash=/dev/disk/by-partlabel/sr-verity-$1" \
		"systemd.verity_root_options=panic-on-corruption" \
		"root=/dev/mapper/root rootfstype=squashfs ro systemd.gpt_auto=0 panic=10" \
		"console=tty1 console=ttyS0,115200 loglevel=4 rd.systemd.show_status=auto"
}
slot_cmdline a | tr -d '\n' >"$work/cmdline.txt"
cat >"$work/os-release" <<EOF
NAME="Strongroom"
ID=strongroom
ID_LIKE=debian
PRETTY_NAME="Strongroom appliance"
VERSION_ID="$(git -C "$repo" describe --always 2>/dev/null || echo dev)"
IMAGE_VERSION="$SOURCE_DATE_EPOCH"
EOF
# Section addresses after the stub's own sections, each aligned to 4 KiB.
align() { echo $((($1 + 4095) / 4096 * 4096)); }
end=0
while read -r size vma; do
	e=$((16#$size + 16#$vma))
	[ "$e" -gt "$end" ] && end=$e
done < <(objdump -h "$stub" | awk 'NF == 7 && $1 ~ /^[0-9]+$/ { print $3, $4 }')
osrel=$(align "$end")
cmdl=$(align $((osrel + $(stat -c %s "$work/os-release"))))
linux=$(align $((cmdl + $(stat -c %s "$work/cmdline.txt"))))
initrd=$(align $((linux + $(stat -c %s "$work/vmlinuz"))))
objcopy \
	--add-section .osrel="$work/os-release" --change-section-vma .osrel="$(printf 0x%x "$osrel")" \
	--add-section .cmdline="$work/cmdline.txt" --change-section-vma .cmdline="$(printf 0x%x "$cmdl")" \
	--add-section .linux="$work/vmlinuz" --change-section-vma .linux="$(printf 0x%x "$linux")" \
	--add-section .initrd="$work/initrd" --change-section-vma .initrd="$(printf 0x%x "$initrd")" \
	"$stub" "$work/uki.efi"

if [ -z "${SB_KEY:-}" ] || [ -z "${SB_CERT:-}" ]; then
	keys="$OUT/keys"
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
sbsign --key "$SB_KEY" --cert "$SB_CERT" --output "$OUT/strongroom.efi" "$work/uki.efi" 2>/dev/null
sbverify --cert "$SB_CERT" "$OUT/strongroom.efi" >/dev/null 2>&1 || die "signed UKI does not verify"

# ------------------------------------------------------------------- disk
log "ESP and GPT disk"
esp="$work/esp.img"
rm -f "$esp"
mkfs.fat -C -F 32 -n STRONGROOM -i 5354524e --invariant "$esp" $((ESP_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/Linux
# Slot A's UKI is the firmware's default boot path. (An update writes slot
# B's UKI next to it and switches the boot entry; not implemented yet.)
mcopy -i "$esp" "$OUT/strongroom.efi" ::/EFI/BOOT/BOOTX64.EFI

state="$work/state.img"
statedir="$work/state"
mkdir -p "$statedir/config" "$statedir/state" "$statedir/network"
chown 800:800 "$statedir" "$statedir/state"
chown 0:800 "$statedir/config"
chmod 0751 "$statedir"
chmod 0750 "$statedir/config"
chmod 0700 "$statedir/state"
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
SLOT_A_OFFSET=$((a_at * 1048576))
HASH_A_OFFSET=$((ah_at * 1048576))
SLOT_B_OFFSET=$((b_at * 1048576))
HASH_B_OFFSET=$((bh_at * 1048576))
STATE_OFFSET=$((state_at * 1048576))
SQUASHFS_SIZE=$sq_size
VERITY_DATA_SIZE=$data_size
ROOTHASH=$roothash
EOF

log "compressing"
zstd -q -f -T0 -12 --long=27 "$img" -o "$img.zst"

end_t=$(date +%s)
{
	echo "root hash:          $roothash"
	echo "SOURCE_DATE_EPOCH:  $SOURCE_DATE_EPOCH"
	echo "kernel:             $kver"
	echo "squashfs:           $sq_size bytes ($((sq_size / 1024 / 1024)) MiB)"
	echo "verity hash tree:   $verity_size bytes"
	echo "initramfs:          $(stat -c %s "$work/initrd") bytes"
	echo "UKI (signed):       $(stat -c %s "$OUT/strongroom.efi") bytes ($(($(stat -c %s "$OUT/strongroom.efi") / 1024 / 1024)) MiB)"
	echo "disk image (raw):   $(stat -c %s "$img") bytes"
	echo "disk image (zstd):  $(stat -c %s "$img.zst") bytes ($(($(stat -c %s "$img.zst") / 1024 / 1024)) MiB)"
	echo "build time:         $((end_t - start)) s"
} | tee "$OUT/build-info.txt"
