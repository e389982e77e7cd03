#!/bin/bash
# Installs the Debian packages that image/build.sh and firmware-tests/run.sh
# need on the build machine. Idempotent: asks dpkg what is missing and runs
# apt-get only when something has to be installed.
set -euo pipefail

PACKAGES=(
	mmdebstrap          # root filesystem from Debian packages
	squashfs-tools      # mksquashfs
	cryptsetup-bin      # veritysetup
	binutils            # objcopy (unified kernel image)
	systemd-boot-efi    # linuxx64.efi.stub, systemd-bootx64.efi (the ESP's boot loader)
	sbsigntool          # sbsign, sbverify
	efitools            # cert-to-efi-sig-list, sign-efi-sig-list (Secure Boot keys)
	mtools              # ESP contents without mounting
	dosfstools          # mkfs.fat on an image file
	fdisk               # sfdisk
	e2fsprogs           # mke2fs -d for the state partition
	openssl             # test signing keys
	zstd                # compressed image
	systemd             # systemd-analyze (units test)
	curl                # firmware tests: /metrics through the forwarded port
	python3             # firmware tests: QEMU monitor, port probes, screendump check
	# firmware tests
	qemu-system-x86
	qemu-utils
	ovmf
	swtpm               # a TPM 2.0 for every test boot
	swtpm-tools         # swtpm_setup, swtpm_ioctl
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "image/deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
