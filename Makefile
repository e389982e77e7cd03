# Strongroom: make demo, make test, make bench (GNU make).

GO       ?= go
BIN      := bin/strongroom
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PKG      := ./appliance/cmd/strongroom

# Debian packages the tests need: chattr/lsattr (e2fsprogs) for the
# immutable-flag tests, findmnt/lsblk (util-linux) for disk checks, promtool
# (prometheus) for the alert-rule tests, tmux for the console's end-to-end
# test on a real terminal, veritysetup (cryptsetup-bin), objcopy (binutils)
# and systemd's EFI stub (systemd-boot-efi) for the update bundle tests.
DEB_PACKAGES := e2fsprogs util-linux fdisk prometheus tmux cryptsetup-bin binutils systemd-boot-efi pst-utils pff-tools chromium

# The S3 server with Object Lock the offsite tests run on loopback, built
# from the Go module proxy into the Go bin directory once (a few minutes
# cold; then cached there, so CI builds it once per runner).
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
GOBIN_DIR := $(shell $(GO) env GOBIN 2>/dev/null)
ifeq ($(GOBIN_DIR),)
GOBIN_DIR := $(shell $(GO) env GOPATH 2>/dev/null)/bin
endif

.PHONY: all build deps test demo bench clean image units-test firmware-test

all: build

build:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) $(PKG)

# Idempotent: installs only what dpkg says is missing, and runs apt-get
# update only when something has to be installed.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v versitygw >/dev/null 2>&1 || [ -x "$(GOBIN_DIR)/versitygw" ] || \
		{ echo "installing versitygw into $(GOBIN_DIR)"; $(GO) install $(VERSITYGW); }

test: deps
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	STRONGROOM_REQUIRE_PROMTOOL=1 STRONGROOM_REQUIRE_TMUX=1 STRONGROOM_REQUIRE_PST_READERS=1 STRONGROOM_REQUIRE_IMAGE_TOOLS=1 STRONGROOM_REQUIRE_S3=1 $(GO) test -timeout 30m ./...

# The main job end to end (simulated tenant, backup, deletion, restore,
# byte-for-byte check), then the vault's fault drill (lost disk, scrub,
# repair, retention lock).
demo: build
	$(BIN) demo
	bash scripts/demo.sh

# CORPUS overrides where the benchmark corpus is generated (kept outside the
# repository); CORPUS_SCRIPT where the generator is.
bench: build
	bash scripts/bench.sh

# The appliance image (needs root): Debian packages by image/deps.sh, then
# mmdebstrap, squashfs + dm-verity, signed unified kernel images for slots A
# and B, signed systemd-boot on the ESP, A/B GPT, update bundle. Signed with
# test keys generated once into image/out/keys.
image: build
	bash image/deps.sh
	bash image/build.sh

# systemd units: verify, and systemd-analyze security <= 1.5 for the agent,
# the warden and the boot-ok unit.
units-test:
	bash image/deps.sh
	bash firmware-tests/units_test.sh

# Builds the image with Secure Boot keys of its own (PK, KEK, db generated
# once in image/out/keys, kept between builds; the ESP carries their signed
# enrolment), so the test boots exactly what was built and update bundles
# verify against the db certificate baked into the root; then boots it in
# QEMU (TCG, OVMF from empty variables, swtpm): the image enrolls its keys,
# then boot to a ready agent, the TPM, open ports, the console on tty1, the
# setup wizard on blank disks, verity, and refusal of unsigned and
# foreign-signed loaders, updates (about 25 minutes here).
# The image's time stamp and version: the commit time of HEAD.
IMAGE_EPOCH   := $(shell git log -1 --format=%ct 2>/dev/null || echo 1700000000)
firmware-test: units-test build
	SOURCE_DATE_EPOCH=$(IMAGE_EPOCH) bash image/build.sh
	# The next version (a day later) as an update bundle, signed with the
	# same db key, for the roll forward/back test.
	BUNDLE_ONLY=1 BASE=$(CURDIR)/image/out OUT=$(CURDIR)/image/out-next \
		SOURCE_DATE_EPOCH=$$(( $(IMAGE_EPOCH) + 86400 )) bash image/build.sh
	NEXT_DIR=$(CURDIR)/image/out-next bash firmware-tests/run.sh image/out

clean:
	rm -rf bin image/out image/out-next firmware-tests/out
