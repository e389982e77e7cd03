#!/bin/bash
# Checks the appliance's systemd units without booting anything:
#   - systemd-analyze verify on every Strongroom unit, together with the mount
#     units systemd-fstab-generator makes from image/rootfs/etc/fstab, in a
#     throw-away root holding the host's systemd units (catches syntax errors,
#     missing executables, missing dependencies and ordering cycles);
#   - systemd-analyze security --offline: the agent, the warden and the
#     boot-ok unit must score at most 1.5 (--threshold=15), and the score of
#     each is printed;
#   - a few facts the design depends on (console replaces getty@tty1, the
#     warden has no network, runs as its own user strongroom-warden (801, not
#     in group strongroom) with exactly CAP_LINUX_IMMUTABLE, CAP_FOWNER and
#     CAP_DAC_OVERRIDE, keeps its state in /var/lib/strongroom-warden (a bind
#     mount of warden/ on the state partition) which the agent can read but
#     not write, the agent has no capabilities and cannot see other users'
#     processes, starts after the warden and the disks, and restarts on
#     failure; the boot-ok unit runs `update mark-good` after the agent with
#     the ESP mounted and reboots when it fails; the console may write the
#     ESP and the warden's directory);
#   - the offsite copier (strongroom-offsite, 802, only CAP_DAC_READ_SEARCH,
#     nothing writable but its state directory) is held to the same 1.5;
#   - strongroom-boot-ok.service (root with CAP_DAC_OVERRIDE only, writes
#     /efi, no network) is held to the same 1.5.
# Needs systemd >= 252 (Debian 12). Exit status 0 when everything passes.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
units="$here/systemd"
fstab="$here/image/rootfs/etc/fstab"
max_score=${MAX_SCORE:-1.5}
threshold=$(awk -v s="$max_score" 'BEGIN { printf "%d", s * 10 + 0.5 }')

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# A root with the host's units, ours, a stand-in executable and the fstab
# mounts, laid out as on the image.
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/etc/systemd/system" "$root/etc/strongroom"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$units"/*.service "$units"/*.target "$units"/*.path "$root/usr/lib/systemd/system/"
printf '#!/bin/sh\nexit 0\n' > "$root/usr/bin/strongroom"
mkdir -p "$root/bin"
cp /bin/sh "$root/bin/sh"
chmod 755 "$root/usr/bin/strongroom"
gen="$root/gen"
mkdir -p "$gen/normal" "$gen/early" "$gen/late"
SYSTEMD_FSTAB="$fstab" SYSTEMD_PROC_CMDLINE="" \
	/usr/lib/systemd/system-generators/systemd-fstab-generator "$gen/normal" "$gen/early" "$gen/late"
cp -a "$gen/normal/." "$root/etc/systemd/system/"
systemctl --root="$root" enable strongroom-agent.service strongroom-warden.service strongroom-offsite.service \
	strongroom-console.service strongroom-update.service strongroom-config.path strongroom-offsite.path strongroom-boot-ok.service strongroom-drill.service >/dev/null 2>&1

echo "== systemd-analyze verify"
cd "$root/usr/lib/systemd/system"
mounts=$(cd "$root/etc/systemd/system" && ls ./*.mount)
out=$(systemd-analyze verify --man=no --root="$root" \
	strongroom-agent.service strongroom-warden.service strongroom-offsite.service strongroom-console.service strongroom-update.service \
	strongroom-config.path strongroom-offsite.path strongroom-disks.target strongroom-boot-ok.service strongroom-drill.service \
	$(for m in $mounts; do echo "$root/etc/systemd/system/$m"; done) 2>&1) || bad "systemd-analyze verify exited non-zero"
if [ -n "$out" ]; then
	echo "$out"
	grep -qi "cycle" <<<"$out" && bad "ordering cycle"
	grep -q "strongroom\|srv-strongroom\|var-lib-strongroom\|efi.mount" <<<"$out" && bad "verify complained about our units"
fi
echo "verify: done"

echo "== systemd-analyze security --offline=yes --threshold=$threshold"
for u in strongroom-agent.service strongroom-warden.service strongroom-offsite.service strongroom-console.service strongroom-update.service strongroom-boot-ok.service strongroom-drill.service; do
	rc=0
	report=$(systemd-analyze security --offline=yes --root="$root" --threshold="$threshold" "$u" 2>&1) || rc=$?
	score=$(echo "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "$u: exposure $score (threshold exit status $rc)"
	case $u in
	strongroom-console.service) ;; # root on the local tty; reported, not gated
	strongroom-update.service) ;;  # root writing the boot disk; reported, not gated
	*)
		if [ -z "$score" ]; then bad "$u: no score"; continue; fi
		awk -v s="$score" -v m="$max_score" 'BEGIN { exit !(s <= m) }' || bad "$u: exposure $score > $max_score"
		[ "$rc" = 0 ] || bad "$u: systemd-analyze security --threshold=$threshold exited $rc"
		;;
	esac
done

echo "== design facts"
prop() { # unit key -> all values of key, space separated
	sed -n "s/^$2=//p" "$units/$1" | tr '\n' ' ' | sed 's/ *$//'
}
words() { tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ *$//'; }
# covers LIST PATH: does one of the paths in LIST (optional "-" prefix) hold
# PATH, as itself or as a directory above it?
covers() {
	local p
	for p in $1; do
		p=${p#-}
		p=${p%/}
		[ "$2" = "$p" ] || [ "${2#"$p"/}" != "$2" ] && return 0
	done
	return 1
}
# The warden: its own user and group, three capabilities, no network, its
# own state directory.
w=strongroom-warden.service
wardir=/var/lib/strongroom-warden
wardsrc=/var/lib/strongroom/warden
warden_caps="CAP_DAC_OVERRIDE CAP_FOWNER CAP_LINUX_IMMUTABLE"
[ "$(prop $w User)" = "strongroom-warden" ] || bad "warden User is '$(prop $w User)', not strongroom-warden"
[ "$(prop $w Group)" = "strongroom-warden" ] || bad "warden Group is '$(prop $w Group)', not strongroom-warden"
[ -z "$(prop $w DynamicUser)" ] || bad "warden must not use DynamicUser (its state and the vault's flags outlive the unit)"
! prop $w SupplementaryGroups | grep -qw strongroom || bad "warden is in group strongroom"
[ "$(prop $w CapabilityBoundingSet | words)" = "$warden_caps" ] || bad "warden bounding set is '$(prop $w CapabilityBoundingSet)', not $warden_caps"
[ "$(prop $w AmbientCapabilities | words)" = "$warden_caps" ] || bad "warden ambient set is '$(prop $w AmbientCapabilities)', not $warden_caps"
[ "$(prop $w NoNewPrivileges)" = "yes" ] || bad "warden NoNewPrivileges"
[ "$(prop $w PrivateNetwork)" = "yes" ] || bad "warden has network"
[ "$(prop $w RestrictAddressFamilies)" = "AF_UNIX" ] || bad "warden address families"
[ "$(prop $w ProtectProc)" = "invisible" ] || bad "warden ProtectProc"
[ -z "$(prop $w ProcSubset)" ] || bad "warden ProcSubset hides /proc/sys/kernel/random/boot_id, which its clock needs"
[ "$(prop $w PrivateUsers)" = "no" ] || bad "warden PrivateUsers must be no (its capabilities act on the agent's files)"
[ "$(prop $w StateDirectory)" = "strongroom-warden" ] || bad "warden StateDirectory is '$(prop $w StateDirectory)'"
[ "$(prop $w StateDirectoryMode)" = "0755" ] || bad "warden StateDirectoryMode (the agent reads clock.json and status.json)"
[ "$(prop $w UMask)" = "0022" ] || bad "warden UMask (status.json, clock.json readable)"
prop $w RequiresMountsFor | grep -qw -- "$wardir" || bad "warden does not require the mount of $wardir"
! covers "$(prop $w ReadWritePaths)" /var/lib/strongroom/config || bad "warden may write the configuration"
# The agent: no capabilities, cannot see or signal other users' processes,
# and may read but not write the warden's directory (under either path).
a=strongroom-agent.service
[ "$(prop $a User)" = "strongroom" ] || bad "agent user"
[ -z "$(prop $a CapabilityBoundingSet)" ] || bad "agent has capabilities"
[ -z "$(prop $a AmbientCapabilities)" ] || bad "agent has ambient capabilities"
[ "$(prop $a NoNewPrivileges)" = "yes" ] || bad "agent NoNewPrivileges"
[ "$(prop $a ProtectProc)" = "invisible" ] || bad "agent ProtectProc"
[ "$(prop $a ProtectSystem)" = "strict" ] || bad "agent ProtectSystem"
[ -z "$(prop $a StateDirectory)" ] || bad "agent StateDirectory (makes a directory writable)"
! covers "$(prop $a ReadWritePaths)" "$wardir" || bad "agent ReadWritePaths covers $wardir"
prop $a ReadOnlyPaths | grep -qw -- "-$wardir" || bad "agent has no ReadOnlyPaths=-$wardir"
if covers "$(prop $a ReadWritePaths)" "$wardsrc"; then
	prop $a ReadOnlyPaths | grep -qw -- "-$wardsrc" || bad "agent may write $wardsrc (the bind mount's source)"
fi
prop $a RequiresMountsFor | grep -qw -- "$wardir" || bad "agent does not require the mount of $wardir"
# The console confirms clock jumps with a request in the warden's directory.
covers "$(prop strongroom-console.service ReadWritePaths)" "$wardir" || bad "console cannot write $wardir"
# Users: fixed ids, the warden's own group.
sysusers="$here/systemd/strongroom.sysusers"
grep -Eq '^u[[:space:]]+strongroom[[:space:]]+800:800[[:space:]]' "$sysusers" || bad "sysusers: strongroom is not 800:800"
grep -Eq '^g[[:space:]]+strongroom-warden[[:space:]]+801[[:space:]]*$' "$sysusers" || bad "sysusers: no group strongroom-warden 801"
grep -Eq '^u[[:space:]]+strongroom-warden[[:space:]]+801:801[[:space:]]' "$sysusers" || bad "sysusers: strongroom-warden is not 801:801"
! grep -Eq '^m[[:space:]]+strongroom-warden[[:space:]]+strongroom[[:space:]]*$' "$sysusers" || bad "sysusers: strongroom-warden is a member of strongroom"
# Its directory lives on the state partition: made by tmpfiles, bind-mounted
# (the mount unit the generator made from fstab).
grep -Eq "^d[[:space:]]+$wardsrc[[:space:]]+0755[[:space:]]+strongroom-warden[[:space:]]+strongroom-warden[[:space:]]" "$here/systemd/strongroom.tmpfiles" ||
	bad "tmpfiles: no 'd $wardsrc 0755 strongroom-warden strongroom-warden'"
wmount="$root/etc/systemd/system/$(systemd-escape -p --suffix=mount "$wardir")"
if [ -f "$wmount" ]; then
	grep -q "^What=$wardsrc$" "$wmount" || bad "$wardir is not a bind mount of $wardsrc"
	grep -q '^Options=.*\bbind\b' "$wmount" || bad "$wardir: not a bind mount"
	grep -q '^After=.*systemd-tmpfiles-setup.service' "$wmount" || bad "$wardir mounted before tmpfiles made its source"
else
	bad "fstab has no mount for $wardir (it would be on the /var tmpfs)"
fi
# The offsite copier: its own user (802, not in group strongroom), only
# CAP_DAC_READ_SEARCH (reads the vault, writes nothing of it), its own state
# directory (bind mount of offsite/ on the state partition) that the agent
# reads but cannot write.
of=strongroom-offsite.service
offdir=/var/lib/strongroom-offsite
[ "$(prop $of User)" = "strongroom-offsite" ] || bad "offsite User is '$(prop $of User)', not strongroom-offsite"
[ "$(prop $of Group)" = "strongroom-offsite" ] || bad "offsite Group"
! prop $of SupplementaryGroups | grep -qw strongroom || bad "offsite is in group strongroom"
[ "$(prop $of CapabilityBoundingSet)" = "CAP_DAC_READ_SEARCH" ] || bad "offsite bounding set is '$(prop $of CapabilityBoundingSet)'"
[ "$(prop $of AmbientCapabilities)" = "CAP_DAC_READ_SEARCH" ] || bad "offsite ambient set"
[ "$(prop $of NoNewPrivileges)" = "yes" ] || bad "offsite NoNewPrivileges"
[ "$(prop $of ProtectSystem)" = "strict" ] || bad "offsite ProtectSystem"
[ -z "$(prop $of ReadWritePaths)" ] || bad "offsite may write '$(prop $of ReadWritePaths)'"
for p in /srv/strongroom /var/lib/strongroom; do covers "$(prop $of ReadOnlyPaths)" $p || bad "offsite does not see $p read-only"; done
[ "$(prop $of StateDirectory)" = "strongroom-offsite" ] || bad "offsite StateDirectory"
prop $of RequiresMountsFor | grep -qw -- "$offdir" || bad "offsite does not require the mount of $offdir"
prop $of ConditionPathExists | grep -qw -- "$offdir/secret" || bad "offsite starts without its secret key file"
prop $a ReadOnlyPaths | grep -qw -- "-$offdir" || bad "agent has no ReadOnlyPaths=-$offdir"
# Network: nothing but localhost (the stub resolver) until the root
# pre-start step adds the endpoint's addresses; it runs before the copier
# and writes the addresses the copier dials from.
[ "$(prop $of IPAddressDeny)" = "any" ] || bad "offsite IPAddressDeny is '$(prop $of IPAddressDeny)', not any"
[ "$(prop $of IPAddressAllow)" = "localhost" ] || bad "offsite IPAddressAllow is '$(prop $of IPAddressAllow)', not just localhost"
prop $of ExecStartPre | grep -q '^+/usr/bin/strongroom offsite allow-endpoint .*--pinned /run/strongroom-offsite/endpoint-addresses' ||
	bad "offsite has no root pre-start step pinning the endpoint"
prop $of ExecStart | grep -q -- '--pinned /run/strongroom-offsite/endpoint-addresses' || bad "offsite run does not dial the pinned addresses"
prop $of ExecStart | grep -q -- '--check-firewall' || bad "offsite run does not check its firewall at start"
[ "$(prop $of RuntimeDirectory)" = "strongroom-offsite" ] || bad "offsite RuntimeDirectory"
grep -Eq '^u[[:space:]]+strongroom-offsite[[:space:]]+802:802[[:space:]]' "$sysusers" || bad "sysusers: strongroom-offsite is not 802:802"
! grep -Eq '^m[[:space:]]+strongroom-offsite[[:space:]]+strongroom[[:space:]]*$' "$sysusers" || bad "sysusers: strongroom-offsite is a member of strongroom"
omount="$root/etc/systemd/system/$(systemd-escape -p --suffix=mount "$offdir")"
[ -f "$omount" ] && grep -q "^What=/var/lib/strongroom/offsite$" "$omount" || bad "$offdir is not a bind mount of /var/lib/strongroom/offsite"
# The attack drill: exactly the agent's user and sandbox (so it proves what
# the agent cannot do), no network, and armed only by a file.
dr=strongroom-drill.service
for p in User Group CapabilityBoundingSet AmbientCapabilities NoNewPrivileges ProtectSystem ProtectProc PrivateUsers ReadWritePaths ReadOnlyPaths SystemCallFilter; do
	[ "$(prop $dr $p)" = "$(prop $a $p)" ] || bad "drill $p '$(prop $dr $p)' differs from the agent's '$(prop $a $p)'"
done
[ "$(prop $dr PrivateNetwork)" = "yes" ] || bad "drill has network"
prop $dr ConditionPathExists | grep -q /var/lib/strongroom/attack-drill || bad "drill is not armed by /var/lib/strongroom/attack-drill"
[ "$(prop $a Restart)" = "on-failure" ] || bad "agent restart"
prop strongroom-agent.service After | grep -q strongroom-warden.service || bad "agent not after warden"
prop strongroom-agent.service After | grep -q strongroom-disks.target || bad "agent not after disks"
prop strongroom-console.service Conflicts | grep -q getty@tty1.service || bad "console does not replace getty@tty1"
[ "$(prop strongroom-console.service TTYPath)" = "/dev/tty1" ] || bad "console tty"
# Boot counting: the boot-ok unit blesses a trial boot after the agent and
# the console, with the ESP mounted, and a failure reboots (systemd-boot then
# counts the try down).
b=strongroom-boot-ok.service
prop $b ExecStart | grep -q '^/usr/bin/strongroom update mark-good$' || bad "boot-ok does not run update mark-good"
[ "$(prop $b FailureAction)" = "reboot" ] || bad "boot-ok FailureAction is not reboot"
[ "$(prop $b Type)" = "oneshot" ] || bad "boot-ok is not oneshot"
prop $b RequiresMountsFor | grep -q '/efi' || bad "boot-ok does not require /efi"
prop $b ReadWritePaths | grep -q '/efi' || bad "boot-ok cannot write /efi"
for a in multi-user.target strongroom-agent.service strongroom-console.service; do
	prop $b After | grep -q "$a" || bad "boot-ok not after $a"
done
[ "$(prop $b WantedBy)" = "multi-user.target" ] || bad "boot-ok not wanted by multi-user.target"
[ "$(prop $b PrivateNetwork)" = "yes" ] || bad "boot-ok has network"
[ -z "$(prop $b ProcSubset)" ] || bad "boot-ok hides /proc/cmdline (ProcSubset)"
[ "$(prop $b User)" = "" ] || bad "boot-ok must run as root (renames entries on the root-only ESP)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/$b" ] || bad "boot-ok not enabled by its [Install] section"
# Updates: the update service writes the ESP and has no network; the
# console does not write the ESP.
u=strongroom-update.service
prop $u ReadWritePaths | grep -q -- '-/efi' || bad "update service cannot write /efi"
prop strongroom-console.service ReadWritePaths | grep -q -- '/efi' && bad "console writes /efi"
[ "$(prop $u PrivateNetwork)" = "yes" ] || bad "update service has network"
[ "$(prop $u RuntimeDirectoryMode)" = "0700" ] || bad "update socket directory not root's only"
[ -z "$(prop $u User)" ] || bad "update service must run as root"
[ -L "$root/etc/systemd/system/multi-user.target.wants/$u" ] || bad "update service not enabled"
# The ESP mount the generator made from fstab.
efi="$root/etc/systemd/system/efi.mount"
if [ -f "$efi" ]; then
	grep -q '^What=/dev/disk/by-partlabel/esp$' "$efi" || bad "efi.mount: not PARTLABEL=esp"
	grep -q '^Type=vfat$' "$efi" || bad "efi.mount: not vfat"
	grep -q '^Options=.*umask=0077' "$efi" || bad "efi.mount: not umask=0077"
	grep -q '^Options=.*noexec' "$efi" || bad "efi.mount: not noexec"
else
	bad "fstab has no /efi mount"
fi
if [ $fail = 0 ]; then echo "units_test: PASS"; else echo "units_test: FAIL"; exit 1; fi
