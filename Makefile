# SPDX-License-Identifier: GPL-2.0
#
# Top-level driver for the TPM 2.0 resource manager overlay.  The kernel
# tree lives in build/linux (see tools/testing/tpm2-rm/build-tree).

T := tools/testing/tpm2-rm

.PHONY: all setup kernel vanilla debug apply check run shell patches clean \
	bench stress lint fuzz

all: kernel

setup:
	@$(T)/setup

apply: setup
	@$(T)/build-tree apply

kernel: setup
	@$(T)/build-tree kernel rm

vanilla: setup
	@$(T)/build-tree kernel vanilla

debug: setup
	@$(T)/build-tree kernel rm-debug

check:
	@$(T)/check

run: kernel
	@$(T)/demo

run-vanilla: vanilla
	@KERNEL=vanilla $(T)/demo

shell: kernel
	@$(T)/vm-run --interactive -- /bin/bash -i

bench:
	@$(T)/bench

stress:
	@$(T)/stress

fuzz:
	@$(T)/fuzz

patches: setup
	@$(T)/mkpatches

lint: setup
	@$(T)/lint

clean:
	rm -rf build/out-* build/vm build/check build/patches
