#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vtpm-guest.sh SELFTESTS_DIR: in a vm-run guest, start swtpm behind a
# vTPM proxy chip (what a container gets its TPM from) and run against
# that chip's /dev/tpmrmN, beside the machine's TPM:
#   - the kernel's own tpm2 selftests from SELFTESTS_DIR, unmodified,
#     timed on the vTPM and on the machine's TPM;
#   - the project's integration tests, but those that need the
#     machine's TPM (a host-side reset, the kernel's own callers).
# The tests know only tpm0, so they run in a mount namespace of their
# own where /dev/tpm0, /dev/tpmrm0, /sys/class/tpm/tpm0 and
# /sys/kernel/debug/tpm0 are the vTPM's.  Afterwards the machine's
# TPM must not have seen one client command of theirs.
set -u
st=$1
t=$(cd "$(dirname "$0")/../selftests/tpm2-rm" && pwd)

count() { cat "/sys/class/tpm/tpm$1/rm/commands"; }
selftests() {	# selftests LABEL: the three scripts, timed
	local t0 rc
	rm -rf /tmp/tpm2 && cp -r "$st" /tmp/tpm2 || return 1
	t0=$(date +%s.%N)
	(cd /tmp/tpm2 && bash test_smoke.sh && bash test_space.sh &&
		bash test_async.sh) > "/tmp/selftests-$1.out" 2>&1
	rc=$?
	grep -E '^not ok ' "/tmp/selftests-$1.out" | sed "s/^/# $1: /"
	[ $rc = 0 ] || tail -n 30 "/tmp/selftests-$1.out"
	echo "# $1: tpm2 selftests rc=$rc in $(echo "$(date +%s.%N) - $t0" | bc) s"
	return $rc
}

[ -e /dev/vtpmx ] || { echo "no /dev/vtpmx (CONFIG_TCG_VTPM_PROXY)"; exit 1; }
state=$(mktemp -d)
swtpm chardev --vtpm-proxy --tpm2 --tpmstate dir="$state" \
	--seccomp action=none \
	> "$state/out" 2>&1 &
swtpm=$!
trap 'kill $swtpm 2>/dev/null; wait $swtpm 2>/dev/null' EXIT
n=
for _ in $(seq 300); do
	n=$(sed -n 's|.*/dev/tpm\([0-9]*\).*|\1|p' "$state/out")
	[ -n "$n" ] && [ -e "/sys/class/tpm/tpm$n/rm/commands" ] && break
	sleep 0.1
done
[ -n "$n" ] && [ -e "/dev/tpmrm$n" ] || { cat "$state/out"; exit 1; }
echo "# vTPM proxy chip: /dev/tpm$n, /dev/tpmrm$n"

# The machine's TPM, for the comparison.
selftests tpm0
rc0=$?

before=$(count 0)
files=$(cd "$t" && ls test_*.py | grep -v -e test_reset.py \
	-e test_kernel_callers.py -e test_vtpm.py)
# shellcheck disable=SC2086
unshare --mount --propagation private -- bash -c '
	set -e
	n=$1 st=$2 t=$3; shift 3
	mount --bind /dev/tpm$n /dev/tpm0
	mount --bind /dev/tpmrm$n /dev/tpmrm0
	mount --bind /sys/class/tpm/tpm$n /sys/class/tpm/tpm0
	if [ -d /sys/kernel/debug/tpm$n ]; then
		mount --bind /sys/kernel/debug/tpm$n /sys/kernel/debug/tpm0
	fi
	set +e
	'"$(declare -f selftests)"'
	selftests "tpm$n (vTPM)"
	a=$?
	# the kernel'"'"'s own callers (trusted keys) still use tpm0
	TPM2RM_VTPM=1 "$t/run-all.py" "$@"
	b=$?
	exit $((a | b))
' vtpm "$n" "$st" "$t" $files
rc1=$?
after=$(count 0)
echo "# tpm0 client commands while the tests ran on tpm$n: $((after - before))"
echo "# tpm$n after the tests: $(grep . /sys/class/tpm/tpm"$n"/rm/{clients,sessions,resident_objects} | tr '\n' ' ')"
[ "$after" = "$before" ] || { echo "not ok - tpm0 saw the vTPM's clients"; rc1=1; }
exit $((rc0 | rc1))
