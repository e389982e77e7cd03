#!/bin/bash
# Boots the appliance image in QEMU (TCG, q35, OVMF with Secure Boot
# enforced, a TPM 2.0 from swtpm) and checks it from the outside. What
# `make firmware-test` runs.
#
#   firmware-tests/run.sh [IMAGE_DIR]      (default image/out, from image/build.sh)
#
# The ESP as built: EFI/BOOT/BOOTX64.EFI = systemd-boot, EFI/Linux/
# strongroom-a.efi = slot A's unified kernel image, both signed with the
# build's own db key; loader/keys/auto/ holds the build's PK, KEK and db
# as signed variable updates for systemd-boot to enroll.
#
# Boots (each on its own copy of the disk, each with its own swtpm):
#   0. enrol:    power-on with empty UEFI variables (setup mode): the image
#                enrolls its keys and resets; the variable store must hold
#                its PK, KEK and db certificates. Every later boot starts
#                from that store (the other stages do not run without it).
#   1. good:     the image as built, a state partition seeded with a
#                configuration for the local tenant simulator and a vault on
#                four virtio data disks.
#                Checks: /metrics answers through the forwarded port within
#                READY_DEADLINE; a backup reaches the vault; the agent's
#                strongroom_os_info names slot A (systemd-boot started
#                EFI/Linux/strongroom-a.efi, strongroom.slot=a), this
#                build's version and root hash, and a TPM; the serial log
#                shows the ESP mounted on /efi (vfat), Secure Boot on and PCR
#                11 extended through the kernel's TPM device; the offsite
#                copy reaches an S3 bucket on the host (versitygw) through
#                its unit's runtime firewall; nothing answers on the
#                probe ports; the console service runs on tty1 and the
#                screen is not blank (QEMU monitor screendump);
#                boot-to-ready time.
#   firstboot: the image as shipped (the state partition holds only the
#                simulator's connection file in import/) with four blank
#                disks: the agent and warden stay down, the console starts
#                on tty1 (screendump kept as PNG); time to the console; then
#                the setup wizard driven by keys (monitor sendkey) and read
#                by character recognition of screendumps (tty.py): DHCP
#                applied, the blank disks formatted, tenant imported and
#                tested, vault created, key confirmed, a first backup shown
#                on the status screen with the time source (chronyd).
#   2. verity:   one byte of slot A's squashfs changed: the boot must stop at
#                dm-verity (kernel reports the corrupted block and panics) and
#                the agent must never answer.
#   3. unsigned: systemd-boot's (BOOTX64.EFI) signature removed: the
#                firmware must refuse it (Access Denied).
#   foreign:     systemd-boot signed with OVMF's snakeoil key instead of the
#                build's: refused the same way.
#   4. unsigned-uki: slot A's UKI in EFI/Linux unsigned, systemd-boot signed:
#                systemd-boot's LoadImage must be refused (serial shows the
#                load error) and no kernel may start.
#   5. update:   roll forward to the next version from the console, confirm,
#                roll back, and fall back by itself from a broken slot B
#                (see the section below).
#
# Secure Boot: every boot starts from UEFI variables the image enrolled
# itself. Stage 0 (enrol) powers on OVMF with empty variables
# (OVMF_VARS_4M.fd: no PK, setup mode); systemd-boot finds the build's own
# signed PK, KEK and db updates in loader/keys/auto on the ESP
# (secure-boot-enroll force), enrolls them and resets. Its variable store
# then holds the build's certificates and the firmware is in user mode:
# every later boot copies it, so the firmware runs only what the build's db
# key signed (image/out/keys, made by image/build.sh). The unsigned and
# foreign stages show a loader without a signature, or signed with OVMF's
# well-known snakeoil test key, refused after enrolment.
#
# TPM: every boot gets its own swtpm (TPM 2.0, state in $W/<name>-tpm,
# socket control channel), attached as tpm-tis. The good boot checks that the
# guest used it: the UKI's stub measured into the TPM (so systemd's
# systemd-pcrphase units run) and systemd-pcrphase-sysinit extended PCR 11
# through the kernel's /dev/tpmrm0 (serial: "Successfully extended PCR index
# 11").
#
# Ports: QEMU user-mode networking only lets the host reach guest ports that
# have a hostfwd, so a port scan from the host sees nothing but the forwards
# and proves nothing by itself. The test therefore forwards, besides 9464,
# a list of probe ports (PROBE_PORTS: ssh, telnet, dns, http(s), llmnr, common
# admin ports). Through a forward, slirp accepts the host's connection and
# then connects to the guest; when the guest drops or refuses (nftables
# policy drop, or nothing listening) slirp closes the host's socket without a
# byte. The check sends a request on every probe port and requires zero bytes
# back, while 9464 must answer HTTP. That shows nothing on those ports speaks;
# it is not a full scan of 65535 ports.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
IMAGE_DIR=${1:-${IMAGE_DIR:-$repo/image/out}}
W=${WORKDIR:-$here/out}
READY_DEADLINE=${READY_DEADLINE:-300}
# A restart from the console: the shutdown, then a boot to ready.
RESTART_DEADLINE=$((READY_DEADLINE + 120))
FAIL_DEADLINE=${FAIL_DEADLINE:-240}
HOSTPORT=${HOSTPORT:-19464}
PROBE_PORTS=${PROBE_PORTS:-"22 23 53 80 443 2375 3000 5355 8080 8443 9090 9100"}
PROBE_BASE=${PROBE_BASE:-19500}
TESTS=${TESTS:-"good firstboot verity unsigned foreign unsigned-uki update"}
# The next version's bundle for the update test (make firmware-test builds it).
NEXT_DIR=${NEXT_DIR:-$repo/image/out-next}
MEM=${MEM:-2048}
BIN=${STRONGROOM_BIN:-$repo/bin/strongroom}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
# Empty variables: the firmware in setup mode, as a new board ships. After
# the enrol stage OVMF_VARS is the store it left.
OVMF_VARS_EMPTY=/usr/share/OVMF/OVMF_VARS_4M.fd
OVMF_VARS=$OVMF_VARS_EMPTY
# The build's db certificate: what the ESP's loader and UKIs are signed for.
SB_CERT=${SB_CERT:-$IMAGE_DIR/keys/db.crt}
# A foreign signer: OVMF's snakeoil test key (its PEM key is protected by
# the passphrase "snakeoil").
SNAKEOIL_KEY=/usr/share/ovmf/PkKek-1-snakeoil.key
SNAKEOIL_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem

log() { printf '%s [fw] %s\n' "$(date +%T)" "$*" >&2; }
results=()
failed=0
pass() { results+=("PASS $*"); log "PASS $*"; }
fail() { results+=("FAIL $*"); log "FAIL $*"; failed=1; }

[ -f "$IMAGE_DIR/strongroom.img" ] || { log "no $IMAGE_DIR/strongroom.img: run image/build.sh"; exit 2; }
# shellcheck disable=SC1091
. "$IMAGE_DIR/layout.env"
for t in qemu-system-x86_64 swtpm sbattach sbverify mcopy mke2fs unsquashfs curl python3 openssl; do
	command -v "$t" >/dev/null || { log "$t missing: run image/deps.sh"; exit 2; }
done
[ -x "$BIN" ] || { log "no $BIN (the host side needs it for the simulator and vault init)"; exit 2; }

rm -rf "$W"
mkdir -p "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ preparation
base="$W/base.img"
cp --sparse=always "$IMAGE_DIR/strongroom.img" "$base"
esp="$base@@$ESP_OFFSET"
export MTOOLS_SKIP_CHECK=1
# The ESP as built: signed systemd-boot, its loader.conf, slot A's signed UKI.
mcopy -n -i "$esp" ::/EFI/BOOT/BOOTX64.EFI "$W/bootx64.efi" 2>/dev/null ||
	{ log "no EFI/BOOT/BOOTX64.EFI on the ESP of $IMAGE_DIR/strongroom.img"; exit 2; }
mcopy -n -i "$esp" ::/EFI/Linux/strongroom-a.efi "$W/strongroom-a.efi" 2>/dev/null ||
	{ log "no EFI/Linux/strongroom-a.efi on the ESP (an image from before systemd-boot? rebuild with make firmware-test)"; exit 2; }
mcopy -n -i "$esp" ::/loader/loader.conf "$W/loader.conf" 2>/dev/null ||
	{ log "no loader/loader.conf on the ESP"; exit 2; }
[ -s "$SB_CERT" ] || { log "no $SB_CERT: image/build.sh generates the keys there (or give SB_CERT)"; exit 2; }
for f in bootx64.efi strongroom-a.efi; do
	if ! sbverify --cert "$SB_CERT" "$W/$f" >/dev/null 2>&1; then
		log "$f on the ESP does not verify against the build's db certificate $SB_CERT"
		exit 2
	fi
done
for k in PK KEK db; do
	mcopy -n -i "$esp" "::/loader/keys/auto/$k.auth" "$W/$k.auth" 2>/dev/null ||
		{ log "no loader/keys/auto/$k.auth on the ESP: the image carries no keys to enroll"; exit 2; }
done
grep -q '^secure-boot-enroll force' "$W/loader.conf" || { log "loader.conf does not enroll the keys (secure-boot-enroll force)"; exit 2; }
pass "build: systemd-boot (BOOTX64.EFI) and EFI/Linux/strongroom-a.efi verify against the build's own db certificate ($(openssl x509 -in "$SB_CERT" -noout -subject)); the ESP carries PK.auth, KEK.auth, db.auth in loader/keys/auto; loader.conf: $(tr '\n' ';' <"$W/loader.conf")"
# The contents of the ESP, for the record.
mdir -/ -b -i "$esp" ::/ >"$W/esp-contents.txt" 2>&1 || true
cp "$W/bootx64.efi" "$W/unsigned-bootx64.efi"
sbattach --remove "$W/unsigned-bootx64.efi" >/dev/null
# The same systemd-boot signed by a foreign key (snakeoil).
openssl pkey -in "$SNAKEOIL_KEY" -passin pass:snakeoil -out "$W/snakeoil.key" 2>/dev/null &&
	sbsign --key "$W/snakeoil.key" --cert "$SNAKEOIL_CERT" --output "$W/foreign-bootx64.efi" "$W/unsigned-bootx64.efi" 2>/dev/null ||
	{ log "could not sign systemd-boot with the snakeoil key"; exit 2; }
cp "$W/strongroom-a.efi" "$W/unsigned-uki.efi"
sbattach --remove "$W/unsigned-uki.efi" >/dev/null

# The image as shipped (empty state partition), for the first-boot test.
cp --sparse=always "$base" "$W/pristine.img"

# Tenant simulator on the host, its configuration, a vault on four disks.
sim_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/state/config" "$W/state/state" "$W/state/network" "$W/d1" "$W/d2" "$W/d3" "$W/d4"
# The guest reaches the host's loopback as 10.0.2.2 (QEMU user networking):
# the simulator names that address in its URLs and certificate.
"$BIN" tenant-sim --listen "127.0.0.1:$sim_port" --public-host 10.0.2.2 --users 3 --config-out "$W/sim.yaml" \
	--ca-out "$W/state/config/sim-ca.pem" >"$W/tenant-sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$W/sim.yaml" ] && break; sleep 0.2; done
[ -s "$W/sim.yaml" ] || { log "tenant-sim wrote no configuration"; cat "$W/tenant-sim.log"; exit 1; }
"$BIN" vault init --disk "$W/d1" --disk "$W/d2" --disk "$W/d3" --disk "$W/d4" --key-out "$W/state/config/recovery.key" >"$W/vault-init.log" 2>&1 ||
	{ log "vault init failed"; cat "$W/vault-init.log"; exit 1; }
{
	grep -v -E '^(ca_file|metrics_listen|api_socket|vault):' "$W/sim.yaml"
	echo "ca_file: /etc/strongroom/sim-ca.pem"
	echo "metrics_listen: 0.0.0.0:9464"
	echo "api_socket: /run/strongroom/agent.sock"
	echo "vault: {disks: [/srv/strongroom/disk1, /srv/strongroom/disk2, /srv/strongroom/disk3, /srv/strongroom/disk4], key_file: /etc/strongroom/recovery.key, state_dir: /var/lib/strongroom/state, warden_dir: /var/lib/strongroom-warden}"
} >"$W/state/config/strongroom.yaml"
# No warden/ on this state partition (as on one made by an older image):
# systemd-tmpfiles creates it for the strongroom-warden user at boot, before
# it is bind-mounted on /var/lib/strongroom-warden.
chown -R 800:800 "$W/state" "$W/d1" "$W/d2" "$W/d3" "$W/d4"
chown 0:800 "$W/state/config" "$W/state/config"/*
chmod 0750 "$W/state/config"
chmod 0640 "$W/state/config"/*
chmod 0700 "$W/state/state"
chown 0:0 "$W/state/network"
chmod 0751 "$W/state"
mke2fs -q -t ext4 -L sr-state -E root_owner=800:800 -d "$W/state" "$W/state.img" 64M
dd if="$W/state.img" of="$base" bs=1M seek=$((STATE_OFFSET / 1048576)) conv=notrunc status=none
for i in 1 2 3 4; do
	mke2fs -q -t ext4 -L "strongroom-data$i" -E root_owner=800:800 -d "$W/d$i" "$W/data$i.img" 256M
done

# ------------------------------------------------------------------ QEMU
# swtpm_start NAME: a TPM 2.0 emulator for one boot. Its state lives in
# $W/${TPM_NAME:-NAME}-tpm, so boots of the same machine (reboots in an
# update test) can share one TPM by setting TPM_NAME. Sets tpm_sock.
swtpm_start() {
	local name=$1 tname=${TPM_NAME:-$1}
	mkdir -p "$W/$tname-tpm"
	tpm_sock="$W/$name-swtpm.sock"
	rm -f "$tpm_sock"
	swtpm socket --tpm2 --tpmstate dir="$W/$tname-tpm" \
		--ctrl type=unixio,path="$tpm_sock" --terminate \
		--log file="$W/$name-swtpm.log",level=1 >/dev/null 2>&1 &
	swtpm_pid=$!
	pids+=("$swtpm_pid")
	for _ in $(seq 50); do [ -S "$tpm_sock" ] && return 0; sleep 0.1; done
	log "$name: swtpm did not create its socket: $(cat "$W/$name-swtpm.log" 2>/dev/null)"
	return 1
}

# boot NAME DISK [extra qemu args...]: starts QEMU (and its swtpm) in the
# background. NO_REBOOT=0 lets the guest reboot (systemd-boot boot counting);
# by default a reboot ends QEMU.
boot() {
	local name=$1 disk=$2
	shift 2
	cp "$OVMF_VARS" "$W/$name-vars.fd"
	swtpm_start "$name" || return 1
	local reboot=-no-reboot
	[ "${NO_REBOOT:-1}" = 1 ] || reboot=
	local fwd="hostfwd=tcp:127.0.0.1:$HOSTPORT-:9464"
	local i=0
	for p in $PROBE_PORTS; do
		fwd="$fwd,hostfwd=tcp:127.0.0.1:$((PROBE_BASE + i))-:$p"
		i=$((i + 1))
	done
	qemu-system-x86_64 -machine q35,smm=on,accel=tcg -cpu max -smp 2 -m "$MEM" \
		-global driver=cfi.pflash01,property=secure,value=on \
		-drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
		-drive if=pflash,format=raw,unit=1,file="$W/$name-vars.fd" \
		-drive if=none,id=os,format=raw,file="$disk" -device virtio-blk-pci,drive=os,bootindex=0 \
		-netdev "user,id=n0,$fwd" -device virtio-net-pci,netdev=n0 \
		-chardev socket,id=chrtpm,path="$tpm_sock" -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		-vga std -display none $reboot \
		-serial "file:$W/$name-serial.log" \
		-monitor "unix:$W/$name-mon.sock,server=on,wait=off" \
		"$@" >"$W/$name-qemu.log" 2>&1 &
	qemu_pid=$!
	pids+=("$qemu_pid")
	sleep 2
	if ! kill -0 "$qemu_pid" 2>/dev/null; then
		log "$name: QEMU did not start: $(cat "$W/$name-qemu.log")"
		return 1
	fi
}
# fills_screen STAGE STATS: the console's 80x25 screens must reach past the
# framebuffer's left half (ppm.py's extent): with the kernel's 8x16 font they
# filled only the top-left quarter of a 1280x800 monitor.
fills_screen() {
	local right=${2##*extent=}
	right=${right%%%x*}
	if [ "${right:-0}" -gt 60 ]; then
		pass "$1: the console fills the screen (lit up to ${right}% of the width)"
	else
		fail "$1: the console is drawn in the left ${right}% of the screen only (font not fitted to the framebuffer?)"
	fi
}

# wait_metrics OUT TRIES EVERY PATTERN...: fetches the agent's /metrics
# into OUT every EVERY seconds, at most TRIES times, until it matches every
# PATTERN (grep); fails when QEMU ends first.
wait_metrics() {
	local out=$1 tries=$2 every=$3 p ok
	shift 3
	for _ in $(seq "$tries"); do
		if curl -fsS -m 5 "http://127.0.0.1:$HOSTPORT/metrics" -o "$out" 2>/dev/null; then
			ok=yes
			for p in "$@"; do grep -q "$p" "$out" || { ok=""; break; }; done
			[ -n "$ok" ] && return 0
		fi
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep "$every"
	done
	return 1
}

monitor() { # name command
	if python3 - "$W/$1-mon.sock" "$2" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
time.sleep(0.3)
s.recv(65536)
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(2)
try:
    s.recv(65536)
except socket.timeout:
    pass
s.close()
EOF
	then :; else log "monitor command failed: $2"; fi
}
# boot_with_disk NAME DISK RAW [extra qemu args...]: boot with one more
# virtio disk holding RAW (e.g. an update bundle written raw, as `dd` to a USB
# stick would), read-only, serial "sr-update".
boot_with_disk() {
	local name=$1 disk=$2 raw=$3
	shift 3
	boot "$name" "$disk" \
		-drive if=none,id=upd,format=raw,readonly=on,file="$raw" -device virtio-blk-pci,drive=upd,serial=sr-update \
		"$@"
}
# stop QEMU_PID: ends QEMU and the swtpm of the last boot (swtpm --terminate
# ends by itself when QEMU closes its socket).
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	if [ -n "${swtpm_pid:-}" ]; then
		kill "$swtpm_pid" 2>/dev/null || true
		wait "$swtpm_pid" 2>/dev/null || true
	fi
}

# ------------------------------------------------------- 0. key enrolment
# Power on with empty UEFI variables (setup mode): systemd-boot enrolls the
# build's db, KEK and PK from the ESP (counting down 15 s first) and resets,
# which ends QEMU (-no-reboot) before any kernel starts. The variable store
# it leaves must hold the build's PK and db certificates; every later boot
# starts from it.
enrol_deadline=${ENROL_DEADLINE:-240}
OVMF_VARS=$OVMF_VARS_EMPTY
log "enrol: power-on with empty UEFI variables (deadline ${enrol_deadline}s)"
t0=$(date +%s)
cp --sparse=always "$base" "$W/enrol.img"
boot enrol "$W/enrol.img"
while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$enrol_deadline" ]; do
	grep -a -q 'Linux version' "$W/enrol-serial.log" && break
	sleep 2
done
enrolled_after=$(($(date +%s) - t0))
running=no
kill -0 "$qemu_pid" 2>/dev/null && running=yes
stop "$qemu_pid"
held=$(python3 - "$W/enrol-vars.fd" "$IMAGE_DIR/keys" <<'EOF'
import subprocess, sys
store = open(sys.argv[1], "rb").read()
found = []
for k in ("PK", "KEK", "db"):
    der = subprocess.run(["openssl", "x509", "-in", f"{sys.argv[2]}/{k}.crt", "-outform", "DER"], capture_output=True, check=True).stdout
    if der in store:
        found.append(k)
print(" ".join(found))
EOF
) || held=""
if [ "$running" = no ] && ! grep -a -q 'Linux version' "$W/enrol-serial.log" && [ "$held" = "PK KEK db" ]; then
	cp "$W/enrol-vars.fd" "$W/enrolled-vars.fd"
	OVMF_VARS="$W/enrolled-vars.fd"
	pass "enrol: from empty UEFI variables systemd-boot enrolled the build's own keys and reset after ${enrolled_after}s; the variable store holds the certificates of $held"
else
	fail "enrol: the image did not enroll its keys from setup mode (QEMU still running: $running; certificates in the variable store: ${held:-none}; $(grep -a -c 'Linux version' "$W/enrol-serial.log" || true) kernel starts)"
	log "enrol failed: the later stages would boot without Secure Boot; stopping"
	printf '%s\n' "${results[@]}"
	echo "firmware-tests: FAIL (logs in $W)"
	exit 1
fi

# ------------------------------------------------------------- 1. good boot
if [[ " $TESTS " == *" good "* ]]; then
	disk="$W/good.img"
	cp --sparse=always "$base" "$disk"
	# This boot's state partition also arms the attack drill
	# (strongroom-drill.service): once the warden has sealed the first
	# backup, the agent's user tries every known way to lose locked data.
	rm -rf "$W/state-drill" && cp -a "$W/state" "$W/state-drill"
	: >"$W/state-drill/attack-drill"
	chown 800:800 "$W/state-drill/attack-drill"
	# The offsite copy (issue 17): an S3 server with Object Lock on the host
	# (versitygw on loopback, reached by the guest as 10.0.2.2, over HTTPS with
	# a certificate for that address from a CA of the test's own), the
	# bucket's secret on the state partition for strongroom-offsite.service.
	# The unit denies every address but localhost; its ExecStartPre pins the
	# endpoint's address and opens the unit's firewall to it at runtime, so
	# a copy that arrives shows that step working on the booted image.
	s3_port=""
	vgw=$(command -v versitygw || true)
	[ -n "$vgw" ] || vgw="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/versitygw"
	if [ -x "$vgw" ]; then
		s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		rm -rf "$W/s3" && mkdir -p "$W/s3/data" "$W/s3/versions"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=strongroom firmware test CA" \
			-keyout "$W/s3/ca.key" -out "$W/s3/ca.pem" 2>/dev/null &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=10.0.2.2" \
				-keyout "$W/s3/tls.key" -out "$W/s3/tls.csr" 2>/dev/null &&
			openssl x509 -req -in "$W/s3/tls.csr" -CA "$W/s3/ca.pem" -CAkey "$W/s3/ca.key" -CAcreateserial -days 2 \
				-extfile <(printf 'subjectAltName=IP:10.0.2.2,IP:127.0.0.1\n') -out "$W/s3/tls.pem" 2>/dev/null ||
			fail "good: could not make a TLS certificate for the S3 server"
		ROOT_ACCESS_KEY=sr-fw ROOT_SECRET_KEY=sr-fw-secret "$vgw" --port "127.0.0.1:$s3_port" \
			--cert "$W/s3/tls.pem" --key "$W/s3/tls.key" --quiet posix \
			--versioning-dir "$W/s3/versions" "$W/s3/data" >"$W/s3.log" 2>&1 &
		pids+=($!)
		made=""
		for _ in $(seq 50); do
			curl -fsS -o /dev/null --cacert "$W/s3/ca.pem" --aws-sigv4 "aws:amz:us-east-1:s3" --user sr-fw:sr-fw-secret -X PUT \
				-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
				-H "x-amz-bucket-object-lock-enabled: true" "https://127.0.0.1:$s3_port/sr-offsite" 2>/dev/null && { made=yes; break; }
			sleep 0.2
		done
		[ -n "$made" ] || { fail "good: versitygw did not create the offsite bucket ($(tail -2 "$W/s3.log"))"; s3_port=""; }
	else
		fail "good: versitygw not found ('make deps' installs it): the offsite copy is not tested"
	fi
	if [ -n "$s3_port" ]; then
		echo "offsite: {endpoint: \"https://10.0.2.2:$s3_port\", bucket: sr-offsite, access_key: sr-fw, secret_key_file: /var/lib/strongroom-offsite/secret, ca_file: /etc/strongroom/offsite-ca.pem, path_style: true, interval: 1m}" \
			>>"$W/state-drill/config/strongroom.yaml"
		install -m 0640 -o 0 -g 800 "$W/s3/ca.pem" "$W/state-drill/config/offsite-ca.pem"
		mkdir -p "$W/state-drill/offsite"
		printf 'sr-fw-secret\n' >"$W/state-drill/offsite/secret"
		chown -R 802:802 "$W/state-drill/offsite"
		chmod 0755 "$W/state-drill/offsite"
		chmod 0600 "$W/state-drill/offsite/secret"
	fi
	mke2fs -q -t ext4 -L sr-state -E root_owner=800:800 -d "$W/state-drill" "$W/state-drill.img" 64M
	dd if="$W/state-drill.img" of="$disk" bs=1M seek=$((STATE_OFFSET / 1048576)) conv=notrunc status=none
	log "good: booting (deadline ${READY_DEADLINE}s)"
	t0=$(date +%s.%N)
	boot good "$disk" \
		-drive if=none,id=d1,format=raw,file="$W/data1.img" -device virtio-blk-pci,drive=d1 \
		-drive if=none,id=d2,format=raw,file="$W/data2.img" -device virtio-blk-pci,drive=d2 \
		-drive if=none,id=d3,format=raw,file="$W/data3.img" -device virtio-blk-pci,drive=d3 \
		-drive if=none,id=d4,format=raw,file="$W/data4.img" -device virtio-blk-pci,drive=d4
	ready=""
	while :; do
		now=$(date +%s.%N)
		el=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.0f", b - a }')
		if curl -fsS -m 5 "http://127.0.0.1:$HOSTPORT/metrics" -o "$W/metrics.txt" 2>/dev/null && [ -s "$W/metrics.txt" ]; then
			ready=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
			break
		fi
		kill -0 "$qemu_pid" 2>/dev/null || break
		[ "$el" -ge "$READY_DEADLINE" ] && break
		sleep 2
	done
	if [ -n "$ready" ]; then
		pass "good: /metrics answered through the forwarded port after ${ready}s (power-on to ready, TCG)"
		echo "$ready" >"$W/boot-to-ready.txt"
	else
		fail "good: /metrics did not answer within ${READY_DEADLINE}s"
	fi
	# A backup from the simulator on the host reaches the vault's disks:
	# the agent starts one at once (no successful backup yet); its metrics
	# then show a successful run and a snapshot read back from the disks.
	backed=""
	wait_metrics "$W/metrics.txt" 90 2 '^strongroom_backup_runs_total{result="success",workload="exchange"} [1-9]' \
		'^strongroom_vault_snapshots [1-9]' && backed=yes
	if [ -n "$backed" ]; then
		pass "good: a backup from the host's tenant simulator reached the vault disks ($(grep '^strongroom_vault_snapshots ' "$W/metrics.txt"), $(grep '^strongroom_vault_used_bytes ' "$W/metrics.txt"))"
	else
		fail "good: no successful backup from the tenant simulator within 180s ($(grep '^strongroom_backup_runs_total' "$W/metrics.txt" 2>/dev/null | tr '\n' ' '))"
	fi
	# The attack drill, as the agent's user in the agent's sandbox, on the
	# booted image: every attempt refused, every sealed file unchanged.
	drill=""
	for _ in $(seq 150); do
		drill=$(grep -a -m1 -o 'attack drill: \(PASS\|FAIL\).*' "$W/good-serial.log" | tr -d '\r' || true)
		[ -n "$drill" ] && break
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 2
	done
	grep -a 'attack \(refused\|SUCCEEDED\)' "$W/good-serial.log" | tr -d '\r' >"$W/drill.txt" || true
	case $drill in
	"attack drill: PASS"*) pass "good: $drill ($(wc -l <"$W/drill.txt") attempts on the serial console)" ;;
	"") fail "good: the attack drill did not report within 300 s after the backup" ;;
	*) fail "good: $drill" ;;
	esac
	if curl -fsS -m 5 "http://127.0.0.1:$HOSTPORT/metrics" -o "$W/metrics-drill.txt" 2>/dev/null &&
		grep -q '^strongroom_vault_snapshots [1-9]' "$W/metrics-drill.txt"; then
		pass "good: after the drill the agent still serves its snapshots ($(grep '^strongroom_vault_snapshots ' "$W/metrics-drill.txt"), $(grep '^strongroom_warden_alerts ' "$W/metrics-drill.txt"))"
	else
		fail "good: after the drill the agent's metrics show no snapshot"
	fi
	# The offsite copy on the booted image: strongroom-offsite.service
	# (IPAddressDeny=any) pinned 10.0.2.2 and opened its firewall to it at
	# runtime, then copied the sealed restore point into the bucket: the
	# agent's metrics read the copier's status, and the host's bucket
	# directory holds the objects.
	if [ -n "$s3_port" ]; then
		offsite=""
		wait_metrics "$W/metrics-offsite.txt" 80 3 '^strongroom_offsite_snapshots{state="offsite"} [1-9]' && offsite=yes
		pinned=$(grep -a -m1 -o 'offsite: 10\.0\.2\.2 pinned to [^;]*' "$W/good-serial.log" | tr -d '\r' || true)
		if [ -n "$pinned" ]; then
			pass "good: the offsite unit pinned its endpoint at start (serial: $pinned)"
		else
			fail "good: no 'offsite: 10.0.2.2 pinned to' line on the serial console ($(grep -a -m3 'strongroom-offsite\|offsite:' "$W/good-serial.log" | tr -d '\r' | tr '\n' '|' | cut -c1-400))"
		fi
		# Its self-check: a datagram to an address outside the pinned
		# endpoint is refused by the unit's cgroup filter (EPERM).
		fw=$(grep -a -m1 -o 'offsite: \(firewall in place\|WARNING\): .*' "$W/good-serial.log" | tr -d '\r' || true)
		case $fw in
		"offsite: firewall in place"*) pass "good: the offsite unit reaches nothing else (serial: $fw)" ;;
		*) fail "good: the offsite unit's firewall self-check did not report a refusal: ${fw:-no line on the serial console}" ;;
		esac
		objects=$(find "$W/s3/data/sr-offsite" -type f 2>/dev/null | wc -l)
		if [ -n "$offsite" ] && [ "$objects" -gt 0 ]; then
			pass "good: the offsite copy reached the bucket through the unit's runtime firewall ($(grep -E '^strongroom_offsite_snapshots\{state="offsite"\}|^strongroom_offsite_copied_objects_total' "$W/metrics-offsite.txt" | tr '\n' ' '); $objects objects in the host's bucket)"
		else
			fail "good: no restore point offsite within 240 s ($(grep '^strongroom_offsite_' "$W/metrics-offsite.txt" 2>/dev/null | tr '\n' ' ' | cut -c1-400); $objects objects in the bucket; $(grep -a 'strongroom-offsite' "$W/good-serial.log" | tail -3 | tr -d '\r' | tr '\n' '|' | cut -c1-400))"
		fi
	fi
	# What booted, as the agent sees it: slot A (strongroom.slot=a from the
	# UKI systemd-boot started), this build's version and root hash, a TPM.
	osinfo=$(grep '^strongroom_os_info{' "$W/metrics.txt" 2>/dev/null | head -1)
	if [ -n "$osinfo" ] && [[ $osinfo == *'slot="a"'* ]] && [[ $osinfo == *"root_hash=\"$ROOTHASH\""* ]] &&
		[[ $osinfo == *"image_version=\"${IMAGE_VERSION:-}\""* ]]; then
		pass "good: the agent runs slot A of this build: $osinfo"
	else
		fail "good: strongroom_os_info does not name slot A, version ${IMAGE_VERSION:-?} and root hash $ROOTHASH: ${osinfo:-no such metric}"
	fi
	if [[ $osinfo == *'tpm="yes"'* ]]; then
		pass "good: the agent sees a TPM (/sys/class/tpm/tpm0; strongroom_os_info tpm=\"yes\")"
	else
		fail "good: the agent sees no TPM: ${osinfo:-no strongroom_os_info}"
	fi
	# Serial console facts.
	sleep 5
	grep -a -E 'Started|Finished|FAILED|Reached target' "$W/good-serial.log" >"$W/good-units.txt" || true
	grep -a -q 'nftables' "$W/good-units.txt" && grep -a -q -i 'Finished.*nftables' "$W/good-units.txt" &&
		pass "good: nftables ruleset loaded (serial)" || fail "good: no sign of nftables on the serial console"
	grep -a -q 'Started.*strongroom-warden' "$W/good-units.txt" && pass "good: warden started (serial)" || fail "good: warden did not start"
	# The kernel booted with Secure Boot on (the stub asks the firmware),
	# from the enrolled keys.
	if grep -a -q 'UEFI Secure Boot is enabled' "$W/good-serial.log"; then
		pass "good: the kernel's EFI stub reports Secure Boot on (serial: $(grep -a -m1 'UEFI Secure Boot is enabled' "$W/good-serial.log" | tr -d '\r' | sed 's/^.*EFI stub/EFI stub/'))"
	else
		fail "good: the kernel does not report Secure Boot enabled ($(grep -a -m1 -i 'secure.boot' "$W/good-serial.log" | tr -d '\r'))"
	fi
	# The ESP on /efi (vfat with its codepage and charset modules): update
	# apply, mark-good and rollback work there.
	if grep -a -q 'Mounted efi.mount' "$W/good-serial.log" && ! grep -a -q 'Failed to mount efi.mount\|FAILED.*efi.mount' "$W/good-serial.log"; then
		pass "good: ESP mounted on /efi (serial: $(grep -a -m1 'Mounted efi.mount' "$W/good-serial.log" | tr -d '\r' | sed 's/^.*Mounted/Mounted/'))"
	else
		fail "good: the ESP was not mounted on /efi ($(grep -a -m1 'efi.mount' "$W/good-serial.log" | tr -d '\r'))"
	fi
	# The TPM: systemd-stub measured the UKI (firmware TPM), and
	# systemd-pcrphase extended PCR 11 through the kernel's TPM device.
	if grep -a -q 'Successfully extended PCR index 11' "$W/good-serial.log"; then
		pass "good: the guest kernel has a TPM 2.0 (serial: $(grep -a -m1 'Successfully extended PCR index 11' "$W/good-serial.log" | tr -d '\r' | sed 's/^.*Successfully/Successfully/'))"
	else
		fail "good: no sign the guest used the TPM ($(grep -a -m2 'TPM2\|pcrphase' "$W/good-serial.log" | tr -d '\r' | tr '\n' ' ' | cut -c1-300))"
	fi
	# A failed start of the agent that a restart recovered from is reported
	# as a note (known race: the agent does not wait for the vault lock the
	# warden's first expire round holds); any other failure fails the test.
	restarts=$(grep -a -c 'strongroom-agent.service: Scheduled restart job' "$W/good-serial.log" || true)
	if [ "${restarts:-0}" -gt 0 ]; then
		results+=("NOTE good: the agent was restarted $restarts time(s) before it ran: $(grep -a -m1 'vault is in use\|strongroom\[[0-9]*\]: strongroom:' "$W/good-serial.log" | tr -d '\r' | cut -c1-160)")
	fi
	if grep -a 'FAILED.*strongroom' "$W/good-units.txt" | grep -a -v -q 'Strongroom backup agent'; then
		fail "good: a Strongroom unit failed: $(grep -a 'FAILED.*strongroom' "$W/good-units.txt" | head -3 | tr -d '\r' | tr '\n' ' ')"
	fi
	kill -0 "$qemu_pid" 2>/dev/null || fail "good: QEMU is no longer running"
	# Probe ports: nothing may answer.
	i=0
	spoke=""
	for p in $PROBE_PORTS; do
		got=$(python3 - "$((PROBE_BASE + i))" <<'EOF'
import socket, sys
n = 0
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.settimeout(5)
    try:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while True:
            d = s.recv(4096)
            if not d:
                break
            n += len(d)
    except OSError:
        pass
except OSError:
    pass
print(n)
EOF
		)
		[ "$got" = 0 ] || spoke="$spoke $p($got bytes)"
		i=$((i + 1))
	done
	if [ -z "$spoke" ]; then
		pass "good: no answer on probe ports $PROBE_PORTS"
	else
		fail "good: probe ports answered:$spoke"
	fi
	# tty1: screendump, not blank.
	monitor good "screendump $W/tty1.ppm"
	if [ -s "$W/tty1.ppm" ]; then
		stats=$(python3 "$here/ppm.py" "$W/tty1.ppm" "$W/tty1.png")
		log "tty1 screendump: $stats"
		case $stats in
		*blank=no*) pass "good: tty1 is not blank ($stats)" ;;
		*) fail "good: tty1 is blank ($stats)" ;;
		esac
		fills_screen good "$stats"
	else
		fail "good: no screendump"
	fi
	grep -a -q 'Started.*strongroom-consol' "$W/good-units.txt" && ! grep -a -q 'FAILED.*strongroom-consol' "$W/good-units.txt" &&
		pass "good: console service started on tty1 (serial)" || fail "good: console service did not start cleanly on tty1"
	stop "$qemu_pid"
fi

# ------------------------------------------------------- first boot
# The image as shipped, four blank data disks: no configuration, so the agent
# and the warden stay down and tty1 shows the setup wizard. The state
# partition is the one image/build.sh makes, plus import/ with the tenant
# simulator's connection file (what an operator brings on a USB stick; the
# wizard imports it by path). The wizard is then driven by keys through the
# QEMU monitor and read back by recognising the characters of screendumps
# (tty.py, with the image's own console fonts): DHCP applied and kept, the
# four blank disks formatted from the console (a wrong name refused first),
# the tenant imported and its sign-in tested, the vault created, its recovery
# key read off the screen and confirmed; then the status screen must show a
# first successful backup and the time source.
# The console of the boot named $fb (firstboot, newbox): its screens are
# read into $W/$fb-NAME.txt, its keys sent through $W/$fb-mon.sock.
fb=firstboot
fb_screen() { # NAME: the screen as text in $W/$fb-NAME.txt
	python3 "$here/tty.py" read "$W/$fb-mon.sock" "$W/fonts" "$W/$fb-$1.txt" 2>>"$W/$fb-tty.log" || true
}
fb_keys() { python3 "$here/tty.py" keys "$W/$fb-mon.sock" "$@" 2>>"$W/$fb-tty.log"; }
fb_wait() { # NAME PATTERN DEADLINE: until the screen matches PATTERN (grep -E)
	local t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt "$3" ]; do
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		fb_screen "$1"
		grep -E -q "$2" "$W/$fb-$1.txt" 2>/dev/null && return 0
		sleep 3
	done
	return 1
}
fb_fail() { fail "$fb: $1 (screen: $W/$fb-$2.txt: $(grep -v '^ *$' "$W/$fb-$2.txt" 2>/dev/null | tail -4 | tr -s ' ' | tr '\n' '|'))"; }
# fb_to_summary: from the tenant step (the connection imported from the
# state partition and its sign-in tested) with the default schedule and no
# offsite copy to the summary.
fb_to_summary() {
	fb_wait tenant 'Microsoft 365 tenant' 30 || { fb_fail "the tenant step did not appear" tenant; return 1; }
	fb_keys @up /var/lib/strongroom/import/sim.yaml @ret
	fb_wait tenant-imported 'Connection details imported' 30 || { fb_fail "the connection file was not imported" tenant-imported; return 1; }
	fb_keys @ret
	fb_wait tenant-tested 'Signed in; the app holds every permission' 90 || { fb_fail "the sign-in test did not pass" tenant-tested; return 1; }
	pass "$fb: the simulator's connection imported and its sign-in tested from the guest"
	fb_keys @ret
	fb_wait schedule 'Schedule and retention' 30 || { fb_fail "the schedule step did not appear" schedule; return 1; }
	fb_keys @ret @ret @ret
	# No offsite copy here: an empty endpoint and Next go on without one.
	fb_wait offsite 'Offsite copy to an S3 bucket' 30 || { fb_fail "the offsite step did not appear" offsite; return 1; }
	fb_keys @ret @ret
	fb_wait summary 'press enter to' 30 || { fb_fail "the summary did not appear" summary; return 1; }
}
firstboot_wizard() {
	mkdir -p "$W/fonts"
	unsquashfs -q -f -d "$W/fonts-root" "$IMAGE_DIR/root.squashfs" 'usr/share/consolefonts/*' >/dev/null 2>&1 &&
		cp "$W/fonts-root/usr/share/consolefonts/"* "$W/fonts/" ||
		{ fail "firstboot: no console fonts in $IMAGE_DIR/root.squashfs (unsquashfs)"; return 1; }
	fb_wait network 'STRONGROOM setup: Network' 60 || { fb_fail "the wizard's network step did not appear" network; return 1; }
	# DHCP (what the default .network does) shown as such, then applied.
	grep -E -q '^. +(en|eth)[a-z0-9]+ +up +[0-9a-f:]+ +DHCP +10\.0\.2\.15/24' "$W/firstboot-network.txt" &&
		pass "firstboot: the network step shows the interface's address as DHCP: $(grep -E -m1 'DHCP +10\.0\.2\.15' "$W/firstboot-network.txt" | tr -s ' ')" ||
		fail "firstboot: the network step does not show 10.0.2.15/24 as DHCP"
	fb_keys @right @ret @ret
	if fb_wait network-applied 'is applied\. Keep it' 120; then
		pass "firstboot: DHCP applied from the console through systemd-networkd ($(grep -m1 'is applied' "$W/firstboot-network-applied.txt" | tr -s ' '))"
	else
		fb_fail "DHCP was not applied from the console; systemd-networkd on the serial console: $(grep -a 'systemd-networkd\[' "$W/firstboot-serial.log" | tail -6 | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //' | tr '\n' '|')" network-applied
		return 1
	fi
	fb_keys y
	fb_wait disks '\] vde ' 60 || { fb_fail "the disk step did not list vdb..vde" disks; return 1; }
	local n
	n=$(grep -c -E '^. +(> )?\[ \] vd[b-e] .*blank' "$W/firstboot-disks.txt" || true)
	if [ "$n" = 4 ] && ! grep -q ' vda ' "$W/firstboot-disks.txt" && grep -q 'sr-blank-1' "$W/firstboot-disks.txt"; then
		pass "firstboot: the four blank disks are offered with their serials, the boot disk (vda) is not"
	else
		fb_fail "the disk step does not offer vdb..vde as blank disks (with serials) without vda" disks
	fi
	# A wrong name formats nothing.
	fb_keys f vdc @ret
	fb_wait disks-wrong 'That is not vdb' 30 && pass "firstboot: formatting vdb with 'vdc' typed is refused" ||
		fb_fail "typing the wrong disk name was not refused" disks-wrong
	fb_keys @esc
	local i=0 d
	for d in vdb vdc vdd vde; do
		[ $i -gt 0 ] && fb_keys @down
		fb_keys f "$d" @ret
		i=$((i + 1))
		if ! fb_wait "format-$d" "$d is now strongroom-data[0-9]+ on /srv/strongroom/disk[0-9]+" 180; then
			fb_fail "$d was not formatted and mounted from the console" "format-$d"
			return 1
		fi
	done
	pass "firstboot: vdb..vde formatted from the console ($(grep -o 'vde is now.*chosen' "$W/firstboot-format-vde.txt"))"
	grep -q '4 disks chosen: layout 2+2' "$W/firstboot-format-vde.txt" &&
		pass "firstboot: the four formatted disks are chosen, layout 2+2" || fb_fail "the formatted disks are not chosen as 2+2" format-vde
	fb_keys @ret
	fb_to_summary || return 1
	fb_wait summary 'press enter to create the vault' 30 || { fb_fail "the summary does not offer to create the vault" summary; return 1; }
	fb_keys @ret
	fb_wait key 'Vault [0-9a-f]{8,} created' 180 || { fb_fail "the vault was not created" key; return 1; }
	local rkey
	rkey=$(grep -E -o '[a-z2-7]{4}(-[a-z2-7]{4}){7,}' "$W/firstboot-key.txt" | head -1)
	fb_rkey=$rkey
	[ -n "$rkey" ] || { fb_fail "no recovery key recognised on the screen" key; return 1; }
	pass "firstboot: vault created on the formatted disks; recovery key read off the screen (${#rkey} characters)"
	fb_keys "${rkey##*-}" @ret
	if fb_wait status 'Last success +20[0-9][0-9]-' 420; then
		pass "firstboot: after setup the status screen shows a first successful backup: $(grep -E -m1 'Last success' "$W/firstboot-status.txt" | tr -s ' ')"
	else
		fb_fail "no successful backup on the status screen within 7 minutes of setup" status
		return 1
	fi
	grep -E -q 'Time source +(NOT synchronised|NTS-synchronised|synchronised)' "$W/firstboot-status.txt" &&
		pass "firstboot: the status screen shows the time source: $(grep -E -m1 'Time source' "$W/firstboot-status.txt" | tr -s ' ')" ||
		fb_fail "the status screen shows no time source line" status
}
# ------------------------------------------ helpers of the update checks
# (used by the update stage and by the new box's update in the first-boot
# stage)
upd_fail() { fail "update: $*"; }
# entries: the boot entries on the update disk's ESP, one line.
entries() { mdir -b -i "$disk@@$ESP_OFFSET" ::/EFI/Linux 2>/dev/null | sed 's|.*/||' | sort | tr '\n' ' '; }
# wait_os SLOT VERSION DEADLINE: until the agent's metrics name them.
wait_os() {
	local t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt "$3" ]; do
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		if curl -fsS -m 5 "http://127.0.0.1:$HOSTPORT/metrics" -o "$W/update-metrics.txt" 2>/dev/null &&
			grep -q "^strongroom_os_info{.*image_version=\"$2\".*slot=\"$1\"" "$W/update-metrics.txt"; then
			return 0
		fi
		sleep 3
	done
	return 1
}
# set_mark, then wait_serial PATTERN DEADLINE: until the serial log, after
# the mark, shows PATTERN (grep -E); prints the line.
mark=0
set_mark() { mark=$(stat -c %s "$serial" 2>/dev/null || echo 0); }
wait_serial() {
	local t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt "$2" ]; do
		# grep reads a string, not a pipe: with -m1 it stops early, which
		# under pipefail would fail a writer still writing (SIGPIPE).
		grep -a -E -m1 "$1" <<<"$(tail -c +"$((mark + 1))" "$serial" 2>/dev/null | tr -d '\r')" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep 2
	done
	return 1
}
# key KEY...: keys to the console of the boot named $upd_mon (update).
upd_mon=update
key() { for k in "$@"; do monitor "$upd_mon" "sendkey $k"; done; }
# restart_from_console: y on the console's "Restart now?"; sent again when
# the console logged no restart (a key lost on the way). Leaves the mark
# before the restart.
restart_from_console() {
	local try line
	for try in 1 2 3; do
		set_mark
		key y
		if line=$(wait_serial 'update: restart(ing| failed)' 20); then
			[[ $line == *"restart failed"* ]] && { upd_fail "the console could not restart: $line"; return 1; }
			return 0
		fi
		log "update: the console logged no restart after y (try $try); the serial since: $(serial_since | tail -3 | tr '\n' '|')"
	done
	upd_fail "the console did not restart after y three times"
	return 1
}
# serial_since: the serial log after the mark, one line per line, without
# carriage returns.
serial_since() { tail -c +"$((mark + 1))" "$serial" 2>/dev/null | tr -d '\r'; }
# boot_story: what the serial shows since the mark about the last restart,
# for a failure message: the console's update lines, kernel starts, the
# boot loader's refusals, units that failed or hung.
boot_story() {
	serial_since | grep -a -E 'update:|Linux version|Access Denied|Error loading|verity|Failed to start|timed out|Reached target|reboot' | tail -8 | tr '\n' '|'
}
boot_update() { NO_REBOOT=0 TPM_NAME=update boot_with_disk update "$disk" "$raw" "${data_disks[@]}"; }
# apply_from_console: u, enter, y on the status screen; succeeds once the
# console logged the slot written and verified.
apply_from_console() {
	local found done_line
	set_mark
	key u
	found=$(wait_serial "update: found version $NEXT_VERSION on [^ ]+, signature OK" 60) || {
		upd_fail "the console did not find the bundle on the extra disk: $(tail -c +"$((mark + 1))" "$serial" | tr -d '\r' | grep -a 'update:' | head -3)"
		return 1
	}
	pass "update: the console found the bundle: ${found##*msg=}"
	set_mark
	local t1=$(date +%s)
	key ret y
	if ! done_line=$(wait_serial 'update: (slot b written and verified|apply failed)' 600) || [[ $done_line == *"apply failed"* ]]; then
		upd_fail "apply did not finish: ${done_line:-no result line}"
		return 1
	fi
	pass "update: slot B written and verified in $(($(date +%s) - t1))s; entries: $(entries)"
	[[ " $(entries)" == *" strongroom-a.efi "*"strongroom-b+3.efi "* ]] || upd_fail "entries after apply: $(entries)"
}


# The first box's four data disks, blank at its first boot (serials
# sr-blank-N), moved to the other machines later.
fb_disks=()
for i in 1 2 3 4; do
	fb_disks+=(-drive "if=none,id=d$i,format=raw,file=$W/blank$i.img" -device "virtio-blk-pci,drive=d$i,serial=sr-blank-$i")
done
# state_files DISK DIR: the files of DISK's state partition (GPT name
# sr-state), copied out with debugfs into DIR.
state_files() {
	local geo start size
	geo=$(sfdisk -J "$1" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "sr-state":
        print(p["start"] * 512, p["size"] * 512)') || return 1
	read -r start size <<<"$geo"
	[ -n "$size" ] || return 1
	dd if="$1" of="$2.img" bs=1M skip=$((start / 1048576)) count=$((size / 1048576)) status=none
	rm -rf "$2" && mkdir -p "$2"
	debugfs -R "rdump / $2" "$2.img" >/dev/null 2>&1
}
# fb_sealed: after setup, the secrets are sealed to the TPM: the state
# partition holds their sealed files and a configuration naming them as
# the units' credentials, and neither the recovery key nor the backup
# app's client secret is in the clear anywhere on the boot disk or the
# data disks (the connection file the test imported from is left out: an
# operator brings it on a stick or types it).
fb_sealed() {
	local st="$W/firstboot-state-after" secret hits f
	state_files "$W/firstboot.img" "$st" || { fail "sealed: the state partition could not be read (sfdisk, debugfs)"; return 1; }
	for f in recovery-key backup-app-secret; do
		[ -s "$st/config/credentials/$f.cred" ] || { fail "sealed: no config/credentials/$f.cred on the state partition: $(ls "$st/config" "$st/config/credentials" 2>&1 | tr '\n' ' ')"; return 1; }
	done
	if grep -q 'key_file: ${CREDENTIALS_DIRECTORY}/recovery-key' "$st/config/strongroom.yaml" &&
		grep -q 'client_secret_file: ${CREDENTIALS_DIRECTORY}/backup-app-secret' "$st/config/strongroom.yaml" &&
		! grep -q 'client_secret:' "$st/config/strongroom.yaml"; then
		pass "sealed: setup sealed the recovery key and the client secret to the TPM ($(cd "$st/config/credentials" && ls | tr '\n' ' ')); the configuration names them as credentials"
	else
		fail "sealed: the configuration does not name the sealed credentials: $(grep -E 'key_file|client_secret' "$st/config/strongroom.yaml" | sed 's/secret: .*/secret: .../' | tr '\n' ' ')"
	fi
	secret=$(grep -A2 '^backup_app:' "$fbstate/import/sim.yaml" | sed -n 's/^ *client_secret: *//p' | tr -d '"'"'" || true)
	[ -n "$secret" ] || { fail "sealed: no backup app client secret in the imported connection file"; return 1; }
	# grep -l: the files holding it; none (exit 1) is the good outcome.
	hits=$(grep -a -l -F -e "$fb_rkey" "$W/firstboot.img" "$W"/blank[1-4].img 2>/dev/null | tr '\n' ' ' || true)
	hits+=$(grep -a -l -r -F -e "$secret" --exclude-dir=import "$st" "$W"/blank[1-4].img 2>/dev/null | tr '\n' ' ' || true)
	if [ -z "$hits" ]; then
		pass "sealed: neither the recovery key nor the client secret is in the clear on the boot disk's $(du -m --apparent-size "$W/firstboot.img" | cut -f1) MB or the four data disks"
	else
		fail "sealed: a secret in the clear in: $hits"
	fi
}
# fb_moved: the set-up boot disk and its data disks in another machine
# (a fresh TPM, the same Secure Boot keys): systemd does not unseal the
# agent's secrets, the agent does not start, and the console says why.
fb_moved() {
	local t0 line stats
	log "moved: the set-up disks in a machine with another TPM (deadline ${READY_DEADLINE}s)"
	cp --sparse=always "$W/firstboot.img" "$W/moved.img"
	boot moved "$W/moved.img" "${fb_disks[@]}"
	t0=$(date +%s)
	line=""
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$READY_DEADLINE" ]; do
		line=$(grep -a -E -m1 'strongroom-agent.service: .*(243/CREDENTIALS|[Ff]ailed to set up credentials|step CREDENTIALS)' "$W/moved-serial.log" | tr -d '\r') && break
		sleep 3
	done
	if [ -n "$line" ]; then
		pass "moved: with another TPM systemd did not unseal the agent's secrets after $(($(date +%s) - t0))s: ${line#*systemd\[1\]: }"
	else
		fail "moved: no credentials failure of the agent within ${READY_DEADLINE}s: $(tr -d '\r' <"$W/moved-serial.log" | grep -a 'strongroom-agent' | tail -3 | tr '\n' '|')"
	fi
	if tr -d '\r' <"$W/moved-serial.log" | grep -a -q 'Started strongroom-agent' ||
		curl -fsS -m 5 "http://127.0.0.1:$HOSTPORT/metrics" -o /dev/null 2>/dev/null; then
		fail "moved: the agent started with another TPM"
	else
		pass "moved: the agent did not start and its metrics port does not answer"
	fi
	# The console waits up to two minutes for the agent's socket, then says
	# why there is none.
	t0=$(date +%s)
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt 240 ]; do
		python3 "$here/tty.py" read "$W/moved-mon.sock" "$W/fonts" "$W/moved-status.txt" 2>>"$W/moved-tty.log" || true
		sed 's/[│┃|]//g' "$W/moved-status.txt" 2>/dev/null | tr -s ' \n' ' ' | grep -q 'TPM did not unseal' && break
		sleep 10
	done
	if sed 's/[│┃|]//g' "$W/moved-status.txt" 2>/dev/null | tr -s ' \n' ' ' | grep -q 'TPM did not unseal'; then
		pass "moved: the console says the TPM did not unseal the agent's secrets ($W/moved-status.txt)"
	else
		fail "moved: the console does not say why the agent is down (screen: $(grep -v '^ *$' "$W/moved-status.txt" 2>/dev/null | tail -4 | tr -s ' ' | tr '\n' '|'))"
	fi
	stop "$qemu_pid"
}
# fb_newbox: a new box (the image as shipped, another TPM) set up on the
# first box's four data disks: the wizard offers them with their vault,
# takes the recovery key read off the first box's screen, and the new box
# backs up into the same vault, which still holds the first box's restore
# point; a restore test from the console passes.
fb_newbox() {
	local t0 snaps
	log "newbox: the first box's data disks in a new box (fresh boot disk and TPM; deadline ${READY_DEADLINE}s)"
	cp --sparse=always "$W/pristine.img" "$W/newbox.img"
	dd if="$W/firstboot-state.img" of="$W/newbox.img" bs=1M seek=$((STATE_OFFSET / 1048576)) conv=notrunc status=none
	boot newbox "$W/newbox.img" "${fb_disks[@]}"
	fb=newbox
	fb_wait network 'STRONGROOM setup: Network' "$READY_DEADLINE" || { fb_fail "the wizard did not start" network; fb=firstboot; stop "$qemu_pid"; return 1; }
	local adopted=no
	fb_newbox_wizard && adopted=yes
	fb=firstboot
	stop "$qemu_pid"
	[ $adopted = yes ] || return 1
	# Powered on again with the same TPM, the secrets it sealed unseal; then
	# updated to slot B from the console, which leaves PCR 7 as it was, they
	# unseal there too.
	local stick="$W/newbox-stick.img" bundle="$NEXT_DIR/strongroom-update.sru"
	if [ -s "$bundle" ]; then
		cp "$bundle" "$stick"
		truncate -s "$(( ($(stat -c %s "$stick") + 1048575) / 1048576 * 1048576 ))" "$stick"
		log "newbox: restarting it (the same TPM) with the next version's update on a stick"
		NO_REBOOT=0 TPM_NAME=newbox boot_with_disk newbox-again "$W/newbox.img" "$stick" "${fb_disks[@]}"
	else
		log "newbox: restarting it (the same TPM); no update bundle in $NEXT_DIR, so no update"
		TPM_NAME=newbox boot newbox-again "$W/newbox.img" "${fb_disks[@]}"
	fi
	t0=$(date +%s)
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$READY_DEADLINE" ]; do
		grep -a -q 'Started strongroom-agent' "$W/newbox-again-serial.log" && break
		sleep 3
	done
	if grep -a -q 'Started strongroom-agent' "$W/newbox-again-serial.log"; then
		pass "newbox: after a restart its TPM unsealed the agent's secrets again; the agent started $(($(date +%s) - t0))s after power-on"
	else
		fail "newbox: after a restart the agent did not start: $(grep -a 'strongroom-agent' "$W/newbox-again-serial.log" | tr -d '\r' | tail -3 | tr '\n' '|')"
		stop "$qemu_pid"
		return 1
	fi
	[ -s "$bundle" ] && newbox_update
	stop "$qemu_pid"
}
# newbox_update: on the new box (sealed secrets), the next version from
# the stick through the console into slot B, a restart, and the agent's
# secrets unsealed under slot B.
newbox_update() {
	local line
	NEXT_VERSION=$(tar -xOf "$NEXT_DIR/strongroom-update.sru" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image_version"])')
	serial="$W/newbox-again-serial.log" upd_mon=newbox-again disk="$W/newbox.img"
	wait_serial 'Started.*strongroom-consol' 180 >/dev/null || { fail "newbox: the console did not start after the restart"; upd_mon=update; return 1; }
	sleep 5
	log "newbox: updating to $NEXT_VERSION from the console (sealed secrets)"
	if apply_from_console && restart_from_console; then
		# The agent starts only with its secrets unsealed; the trial boot
		# of slot B is confirmed only once the agent is healthy.
		if wait_serial 'Started strongroom-agent' "$RESTART_DEADLINE" >/dev/null &&
			line=$(wait_serial "slot b \\(version $NEXT_VERSION\\) confirmed after [0-9]+ boot attempt" 360); then
			pass "newbox: updated to slot B (version $NEXT_VERSION) from the console; there the TPM unsealed the agent's secrets too: the agent started and the trial boot was confirmed (${line##*]: })"
		else
			fail "newbox: after the update slot B did not come up with its agent (entries: $(entries); serial: $(boot_story))"
		fi
	fi
	upd_mon=update
}
fb_newbox_wizard() {
	# Keep the network as it is (DHCP), on to the disks.
	fb_keys @ret
	if ! fb_wait disks 'vault [0-9a-f]{8}, 4/4' 20; then
		# The first enter may only have read the network state.
		fb_keys @ret
		fb_wait disks 'vault [0-9a-f]{8}, 4/4' 60 || { fb_fail "the disks are not offered with their vault" disks; return 1; }
	fi
	pass "newbox: the first box's disks are offered with their vault ($(grep -E -o 'vault [0-9a-f]{8}, [0-9]/4' "$W/newbox-disks.txt" | sort | tr '\n' ' '))"
	fb_keys @spc @down @spc @down @spc @down @spc
	fb_wait disks-chosen '4 disks of vault [0-9a-f]{8} chosen' 30 || { fb_fail "the four disks of the vault are not chosen" disks-chosen; return 1; }
	fb_keys @ret
	fb_to_summary || return 1
	fb_wait summary-use 'used as it is' 10 || { fb_fail "the summary does not say the vault is used as it is" summary-use; return 1; }
	fb_keys @ret
	fb_wait key 'The chosen disks hold vault' 30 || { fb_fail "the key step does not ask for the vault's key" key; return 1; }
	# A key that is not the vault's opens nothing.
	fb_keys "${fb_rkey%????}" aaaa @ret
	fb_wait key-wrong 'does not open vault|not the recovery key' 60 && pass "newbox: a wrong recovery key is refused" ||
		fb_fail "a wrong recovery key was not refused" key-wrong
	fb_keys $(printf '@backspace %.0s' $(seq ${#fb_rkey})) "$fb_rkey" @ret
	# The status screen of the vault as the first box left it: its last
	# backup, its restore point, and a trusted clock that waits for the
	# operator before anything can expire (the new box cannot know how long
	# the disks were away).
	local first
	first=$(grep -E -o 'Last success +20[0-9-]+ [0-9:]+' "$W/firstboot-status.txt" | head -1 | tr -s ' ')
	if fb_wait status 'Capacity .* 1 snapshots' 300 && [ -n "$first" ] &&
		grep -q -F "$first" <<<"$(tr -s ' ' <"$W/newbox-status.txt")"; then
		pass "newbox: the vault opened with the first box's recovery key, with the first box's restore point ($first)"
	else
		fb_fail "the new box's status does not show the first box's restore point (${first:-no first box line})" status
		return 1
	fi
	grep -q 'trusted clock frozen' "$W/newbox-status.txt" &&
		pass "newbox: its trusted clock waits for the operator's confirmation before anything expires" ||
		fb_fail "no frozen trusted clock on the new box" status
	fb_keys r
	if fb_wait restore-test 'Restore test passed' 300; then
		pass "newbox: the first box's restore point restores: $(grep -o 'Restore test passed[^|]*' "$W/newbox-restore-test.txt" | head -1 | tr -s ' ')"
	else
		fb_fail "the restore test from the console did not pass" restore-test
	fi
	fb_keys b
	if fb_wait backup 'Capacity .* 2 snapshots' 420; then
		pass "newbox: a backup from the console went into the same vault: $(grep -E -o 'Capacity .*snapshots' "$W/newbox-backup.txt" | tr -s ' ')"
	else
		fb_fail "no second restore point after a backup from the new box's console" backup
	fi
}
if [[ " $TESTS " == *" firstboot "* ]]; then
	for i in 1 2 3 4; do rm -f "$W/blank$i.img"; truncate -s 256M "$W/blank$i.img"; done
	fbstate="$W/firstboot-state"
	rm -rf "$fbstate" && mkdir -p "$fbstate/config" "$fbstate/state" "$fbstate/network" "$fbstate/warden" "$fbstate/import"
	grep -v -E '^(ca_file|metrics_listen|api_socket|vault):' "$W/sim.yaml" >"$fbstate/import/sim.yaml"
	echo "ca_file: sim-ca.pem" >>"$fbstate/import/sim.yaml"
	cp "$W/state/config/sim-ca.pem" "$fbstate/import/sim-ca.pem"
	chown 800:800 "$fbstate" "$fbstate/state"
	chown 0:800 "$fbstate/config"
	chown 801:801 "$fbstate/warden"
	chown -R 0:0 "$fbstate/import" "$fbstate/network"
	chmod 0751 "$fbstate"
	chmod 0750 "$fbstate/config"
	chmod 0700 "$fbstate/state"
	chmod 0644 "$fbstate/import"/*
	mke2fs -q -t ext4 -L sr-state -E root_owner=800:800 -d "$fbstate" "$W/firstboot-state.img" 64M
	cp --sparse=always "$W/pristine.img" "$W/firstboot.img"
	dd if="$W/firstboot-state.img" of="$W/firstboot.img" bs=1M seek=$((STATE_OFFSET / 1048576)) conv=notrunc status=none
	log "firstboot: booting the image as shipped with four blank disks (deadline ${READY_DEADLINE}s)"
	t0=$(date +%s)
	boot firstboot "$W/firstboot.img" "${fb_disks[@]}"
	shown=""
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$READY_DEADLINE" ]; do
		if grep -a -q 'Started.*strongroom-consol' "$W/firstboot-serial.log"; then
			shown=$(($(date +%s) - t0))
			break
		fi
		sleep 2
	done
	if [ -n "$shown" ]; then
		sleep 8
		monitor firstboot "screendump $W/firstboot-tty1.ppm"
		stats=$(python3 "$here/ppm.py" "$W/firstboot-tty1.ppm" "$W/firstboot-tty1.png" 2>&1 || true)
		case $stats in
		*blank=no*) pass "firstboot: console started after ${shown}s, tty1 drawn ($stats; picture in $W/firstboot-tty1.png)" ;;
		*) fail "firstboot: tty1 blank after the console started ($stats)" ;;
		esac
		fills_screen firstboot "$stats"
	else
		fail "firstboot: the console did not start within ${READY_DEADLINE}s"
	fi
	if grep -a -q 'Started.*strongroom-agent\|Started.*strongroom-warden' "$W/firstboot-serial.log"; then
		fail "firstboot: agent or warden started without a configuration"
	else
		pass "firstboot: agent and warden not started without a configuration"
	fi
	fb_rkey=""
	if [ -n "$shown" ]; then firstboot_wizard || true; fi
	grep -a -q 'Started.*chrony' "$W/firstboot-serial.log" && pass "firstboot: chronyd started (serial)" ||
		fail "firstboot: no sign of chronyd on the serial console"
	stop "$qemu_pid"
	if [ -n "$fb_rkey" ]; then
		fb_sealed
		fb_moved
		fb_newbox
	fi
fi

# ---------------------------------------------------- 2. corrupted squashfs
if [[ " $TESTS " == *" verity "* ]]; then
	disk="$W/verity.img"
	cp --sparse=always "$base" "$disk"
	# One byte in the first 4 KiB block of the squashfs (its superblock), which
	# mounting the root must read.
	off=$((SLOT_A_OFFSET + 100))
	old=$(od -An -tu1 -j "$off" -N1 "$disk" | tr -d ' ')
	printf "$(printf '\\%03o' $(((old + 1) % 256)))" | dd of="$disk" bs=1 seek="$off" conv=notrunc status=none
	log "verity: byte at $off changed $old -> $(((old + 1) % 256)); booting (deadline ${FAIL_DEADLINE}s)"
	t0=$(date +%s)
	boot verity "$disk"
	answered=no
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$FAIL_DEADLINE" ]; do
		curl -fsS -m 3 "http://127.0.0.1:$HOSTPORT/metrics" -o /dev/null 2>/dev/null && answered=yes
		grep -a -q -i 'Kernel panic' "$W/verity-serial.log" && { sleep 3; break; }
		sleep 2
	done
	stop "$qemu_pid"
	if grep -a -q -i 'verity.*corrupt' "$W/verity-serial.log" && [ $answered = no ]; then
		pass "verity: boot stopped at dm-verity after $(($(date +%s) - t0))s: $(grep -a -i -m1 'verity.*corrupt' "$W/verity-serial.log" | tr -d '\r')"
	else
		fail "verity: no dm-verity corruption report (agent answered: $answered)"
	fi
fi

# ------------------------------------------------ 3. unsigned boot loader
# refused_loader NAME EFI WHAT: slot A's disk with EFI as BOOTX64.EFI must be
# refused by the firmware (Access Denied on the serial console), no kernel.
refused_loader() {
	local name=$1 efi=$2 what=$3 disk="$W/$1.img"
	cp --sparse=always "$base" "$disk"
	mcopy -o -i "$disk@@$ESP_OFFSET" "$efi" ::/EFI/BOOT/BOOTX64.EFI
	log "$name: booting $what (deadline ${FAIL_DEADLINE}s)"
	t0=$(date +%s)
	boot "$name" "$disk"
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$FAIL_DEADLINE" ]; do
		grep -a -q 'Access Denied' "$W/$name-serial.log" && { sleep 5; break; }
		grep -a -q 'Linux version' "$W/$name-serial.log" && break
		sleep 2
	done
	stop "$qemu_pid"
	if grep -a -q 'Access Denied' "$W/$name-serial.log" && ! grep -a -q 'Linux version' "$W/$name-serial.log"; then
		pass "$name: firmware refused $what: $(grep -a -m1 'Access Denied' "$W/$name-serial.log" | tr -d '\r')"
	else
		fail "$name: $what was not refused"
	fi
}
if [[ " $TESTS " == *" unsigned "* ]]; then
	refused_loader unsigned "$W/unsigned-bootx64.efi" "an unsigned systemd-boot"
fi
if [[ " $TESTS " == *" foreign "* ]]; then
	refused_loader foreign "$W/foreign-bootx64.efi" "systemd-boot signed with the snakeoil key, not the build's"
fi

# ------------------------------------------- 4. unsigned UKI in EFI/Linux
# systemd-boot (signed) finds slot A's entry, but the firmware's LoadImage
# refuses the unsigned UKI: systemd-boot reports the load error, no kernel.
if [[ " $TESTS " == *" unsigned-uki "* ]]; then
	disk="$W/unsigned-uki.img"
	cp --sparse=always "$base" "$disk"
	mcopy -o -i "$disk@@$ESP_OFFSET" "$W/unsigned-uki.efi" ::/EFI/Linux/strongroom-a.efi
	log "unsigned-uki: booting signed systemd-boot with an unsigned UKI (deadline ${FAIL_DEADLINE}s)"
	t0=$(date +%s)
	boot unsigned-uki "$disk"
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$FAIL_DEADLINE" ]; do
		grep -a -q 'Error loading\|Access Denied\|Security Violation' "$W/unsigned-uki-serial.log" && { sleep 5; break; }
		grep -a -q 'Linux version' "$W/unsigned-uki-serial.log" && break
		sleep 2
	done
	stop "$qemu_pid"
	if grep -a -q 'Error loading\|Access Denied\|Security Violation' "$W/unsigned-uki-serial.log" && ! grep -a -q 'Linux version' "$W/unsigned-uki-serial.log"; then
		pass "unsigned-uki: systemd-boot could not load the unsigned UKI after $(($(date +%s) - t0))s: $(grep -a -m1 'Error loading\|Access Denied\|Security Violation' "$W/unsigned-uki-serial.log" | tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g')"
	else
		fail "unsigned-uki: the unsigned UKI was not refused"
	fi
fi

# ----------------------------------------- 5. update: roll forward / back
# One machine (one disk, one TPM, the configured vault disks) through four
# boots, driven like an operator would: the next version's bundle written raw
# to an extra disk (as `dd` to a USB stick), keys pressed on tty1 through the
# QEMU monitor, facts read from the agent's metrics, the serial console and
# the ESP of the disk file.
#   a) slot A boots; console: u, enter, y -> slot B written and verified,
#      EFI/Linux/strongroom-b+3.efi; y restarts.
#   b) slot B boots (strongroom_os_info slot="b", the next version);
#      strongroom-boot-ok.service confirms it: strongroom-b.efi.
#   c) console: u, R, y -> rollback; y restarts; slot A boots again,
#      strongroom-b+0.efi stays behind.
#   d) console: u, enter, y -> slot B written again; n (no restart); power
#      off; one byte of slot B's root changed from the host; power on: every
#      try of slot B stops at dm-verity and reboots, systemd-boot counts it
#      down to strongroom-b+0-3.efi and slot A boots by itself.
# a) slot A boots; apply from the console; restart.
upd_forward() {
	log "update: a) booting slot A with the bundle on an extra disk"
	boot_update
	set_mark
	wait_os a "$IMAGE_VERSION" "$READY_DEADLINE" || { upd_fail "slot A (version $IMAGE_VERSION) did not come up"; return 1; }
	wait_serial 'Started.*strongroom-consol' 60 >/dev/null || { upd_fail "the console did not start"; return 1; }
	sleep 5
	apply_from_console || return 1
	restart_from_console
}

# b) slot B runs the next version and is confirmed.
upd_confirm() {
	log "update: b) restarting into slot B"
	local t1=$(date +%s) conf
	wait_os b "$NEXT_VERSION" "$RESTART_DEADLINE" || {
		upd_fail "slot B (version $NEXT_VERSION) did not come up after the restart ($(grep '^strongroom_os_info' "$W/update-metrics.txt" 2>/dev/null)); entries: $(entries); serial: $(boot_story)"
		return 1
	}
	pass "update: rolled forward: slot B runs version $NEXT_VERSION $(($(date +%s) - t1))s after the restart ($(grep '^strongroom_os_info' "$W/update-metrics.txt"))"
	grep -q "root_hash=\"$NEXT_ROOTHASH\"" "$W/update-metrics.txt" || upd_fail "slot B's root hash is not the bundle's $NEXT_ROOTHASH"
	if conf=$(wait_serial 'confirmed after [0-9]+ boot attempt' 360); then
		sleep 3
		pass "update: the trial boot was confirmed (${conf##*: }); entries: $(entries)"
		[[ " $(entries)" == *" strongroom-b.efi "* ]] || upd_fail "slot B's entry still has a counter: $(entries)"
	else
		upd_fail "strongroom-boot-ok did not confirm slot B; entries: $(entries)"
	fi
}

# c) roll back from the console; slot A comes back on trial and is
# confirmed like any other trial boot.
upd_rollback() {
	log "update: c) rolling back from the console"
	local rb conf t1
	sleep 3
	set_mark
	key u
	wait_serial 'update: running slot b' 60 >/dev/null || { upd_fail "the update screen did not open on slot B"; return 1; }
	set_mark
	key shift-r y
	if ! rb=$(wait_serial 'update: rollback (done|failed)' 60) || [[ $rb != *done* ]]; then
		upd_fail "rollback: ${rb:-no result line}"
		return 1
	fi
	restart_from_console || return 1
	t1=$(date +%s)
	wait_os a "$IMAGE_VERSION" "$RESTART_DEADLINE" || {
		upd_fail "slot A did not come back after the rollback ($(grep '^strongroom_os_info' "$W/update-metrics.txt" 2>/dev/null)); entries: $(entries); serial: $(boot_story)"
		return 1
	}
	pass "update: rolled back: slot A runs version $IMAGE_VERSION again $(($(date +%s) - t1))s after the restart; entries: $(entries)"
	[[ " $(entries)" == *" strongroom-b+0.efi "* ]] || upd_fail "slot B's entry is not out of tries after the rollback: $(entries)"
	if conf=$(wait_serial 'slot a .* confirmed after [0-9]+ boot attempt' 360); then
		sleep 3
		pass "update: slot A confirmed after the rollback (${conf##*: }); entries: $(entries)"
	else
		upd_fail "slot A was not confirmed after the rollback; entries: $(entries)"
	fi
}

# d) apply again without restarting, power off, break slot B from the host,
# power on: every try of slot B stops at dm-verity and slot A comes back.
upd_fallback() {
	log "update: d) applying again, then breaking slot B from the host"
	local t1 off old panics
	sleep 5
	apply_from_console || return 1
	key n
	monitor update system_powerdown
	t1=$(date +%s)
	while kill -0 "$qemu_pid" 2>/dev/null && [ $(($(date +%s) - t1)) -lt 90 ]; do sleep 2; done
	kill -0 "$qemu_pid" 2>/dev/null && { log "update: no power-off after 90s, pulling the plug"; monitor update quit; }
	stop "$qemu_pid"
	log "update: entries before the broken boot: $(entries)"
	off=$((SLOT_B_OFFSET + 100))
	old=$(od -An -tu1 -j "$off" -N1 "$disk" | tr -d ' ')
	printf "$(printf '\\%03o' $(((old + 1) % 256)))" | dd of="$disk" bs=1 seek="$off" conv=notrunc status=none
	log "update: byte $off of slot B changed; powering on"
	# QEMU starts a new serial log: keep the first.
	cp "$serial" "$W/update-serial-1.log"
	boot_update
	set_mark
	t1=$(date +%s)
	wait_os a "$IMAGE_VERSION" 900 || { upd_fail "slot A did not come back after slot B was broken; entries: $(entries)"; return 1; }
	panics=$(tail -c +"$((mark + 1))" "$serial" | grep -a -c -i 'verity.*corrupt\|Kernel panic' || true)
	pass "update: fell back: slot A runs again $(($(date +%s) - t1))s after power-on, after failed boots of slot B (serial: $panics verity/panic lines); entries: $(entries)"
	[[ " $(entries)" == *" strongroom-b+0-3.efi "* ]] || upd_fail "slot B was not counted down to zero: $(entries)"
	grep -a -q -i 'verity.*corrupt' "$serial" || upd_fail "no dm-verity report from slot B's tries"
}

if [[ " $TESTS " == *" update "* ]]; then
	next_bundle="$NEXT_DIR/strongroom-update.sru"
	if [ ! -s "$next_bundle" ]; then
		upd_fail "no next-version bundle at $next_bundle (make firmware-test builds it with BUNDLE_ONLY=1)"
	else
		next_manifest=$(tar -xOf "$next_bundle" manifest.json)
		NEXT_VERSION=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["image_version"])' <<<"$next_manifest")
		NEXT_ROOTHASH=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["root_hash"])' <<<"$next_manifest")
		log "update: next version $NEXT_VERSION (root hash $NEXT_ROOTHASH), running version ${IMAGE_VERSION:-?}"
		disk="$W/update.img"
		cp --sparse=always "$base" "$disk"
		raw="$W/update-stick.img"
		cp "$next_bundle" "$raw"
		truncate -s "$(( ($(stat -c %s "$raw") + 1048575) / 1048576 * 1048576 ))" "$raw"
		data_disks=()
		for i in 1 2 3 4; do
			data_disks+=(-drive "if=none,id=d$i,format=raw,file=$W/data$i.img" -device "virtio-blk-pci,drive=d$i")
		done
		serial="$W/update-serial.log"
		# The fallback starts from slot A running again after the rollback.
		if upd_forward && upd_confirm; then
			if upd_rollback; then
				upd_fallback || true
			else
				log "update: d) not run: the rollback did not leave slot A running"
			fi
		fi
		stop "$qemu_pid"
	fi
fi

echo
printf '%s\n' "${results[@]}"
[ $failed = 0 ] && echo "firmware-tests: PASS" || { echo "firmware-tests: FAIL (logs in $W)"; exit 1; }
