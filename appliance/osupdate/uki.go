package osupdate

import (
	"bufio"
	"bytes"
	"debug/pe"
	"fmt"
	"io"
	"strings"
)

// KernelImage is what a unified kernel image says about itself: its
// embedded kernel command line and os-release.
type KernelImage struct {
	Cmdline string
	OSRel   map[string]string
}

// ReadKernelImage reads the .cmdline and .osrel sections of a unified
// kernel image.
func ReadKernelImage(r io.ReaderAt) (*KernelImage, error) {
	f, err := pe.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("not a PE/EFI image: %w", err)
	}
	defer f.Close()
	section := func(name string) (string, error) {
		s := f.Section(name)
		if s == nil {
			return "", fmt.Errorf("the kernel image has no %s section", name)
		}
		b, err := s.Data()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		}
		// The raw data is padded to the file alignment.
		if s.VirtualSize > 0 && int(s.VirtualSize) < len(b) {
			b = b[:s.VirtualSize]
		}
		return string(bytes.TrimRight(b, "\x00")), nil
	}
	k := &KernelImage{}
	if k.Cmdline, err = section(".cmdline"); err != nil {
		return nil, err
	}
	k.Cmdline = strings.TrimSpace(k.Cmdline)
	osrel, err := section(".osrel")
	if err != nil {
		return nil, err
	}
	k.OSRel = parseOSRelease(osrel)
	return k, nil
}

// Param returns the value of key=value on the command line, or "".
func (k *KernelImage) Param(key string) string { return cmdlineParam(k.Cmdline, key) }

// cmdlineParam returns the value of the last key=value on the command line
// (the kernel and systemd take the last one too), or "".
func cmdlineParam(cmdline, key string) string {
	v := ""
	for _, f := range strings.Fields(cmdline) {
		if x, ok := strings.CutPrefix(f, key+"="); ok {
			v = x
		}
	}
	return v
}

// parseOSRelease reads KEY=VALUE lines (os-release(5)); quotes are
// removed.
func parseOSRelease(s string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		m[k] = v
	}
	return m
}

// checkKernelImage checks that a kernel image boots slot with the given
// root hash and carries the given image version.
func checkKernelImage(k *KernelImage, slot Slot, rootHash, imageVersion string) error {
	if got := k.Param("roothash"); got != rootHash {
		return fmt.Errorf("kernel image for slot %s names root hash %q, the root file system has %s", slot, got, rootHash)
	}
	if got := k.Param("strongroom.slot"); got != string(slot) {
		return fmt.Errorf("kernel image for slot %s says strongroom.slot=%q", slot, got)
	}
	if want := "/dev/disk/by-partlabel/sr-root-" + string(slot); k.Param("systemd.verity_root_data") != want {
		return fmt.Errorf("kernel image for slot %s mounts %q, want %s", slot, k.Param("systemd.verity_root_data"), want)
	}
	if want := "/dev/disk/by-partlabel/sr-verity-" + string(slot); k.Param("systemd.verity_root_hash") != want {
		return fmt.Errorf("kernel image for slot %s takes its hash tree from %q, want %s", slot, k.Param("systemd.verity_root_hash"), want)
	}
	if imageVersion != "" && k.OSRel["IMAGE_VERSION"] != imageVersion {
		return fmt.Errorf("kernel image for slot %s is version %q, want %s", slot, k.OSRel["IMAGE_VERSION"], imageVersion)
	}
	return nil
}
