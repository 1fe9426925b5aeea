#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# openssl-flow.sh N DIR: a TPM-backed key made with the tpm2-openssl
# provider, then N processes at once each signing 3 times with it
# through /dev/tpmrm0; every signature must verify.  Prints
# "# openssl: OK of N*3 signatures" and exits non-zero if any failed.
set -u
n=$1
cd "$2"
export TPM2OPENSSL_TCTI=${TPM2OPENSSL_TCTI:-device:/dev/tpmrm0}
P="-provider tpm2 -provider default"
openssl genpkey $P -algorithm EC -pkeyopt group:P-256 -out key.pem || exit 1
openssl pkey $P -in key.pem -pubout -out pub.pem || exit 1
head -c 32 /dev/urandom > dgst
for i in $(seq "$n"); do
	(
		for j in 1 2 3; do
			openssl pkeyutl $P -sign -inkey key.pem -in dgst \
				-out "sig.$i.$j" 2> "err.$i.$j" || rm -f "sig.$i.$j"
		done
	) &
done
wait
ok=0
for i in $(seq "$n"); do
	for j in 1 2 3; do
		[ -f "sig.$i.$j" ] && openssl pkeyutl -verify -pubin -inkey pub.pem \
			-in dgst -sigfile "sig.$i.$j" > /dev/null 2>&1 && ok=$((ok + 1))
	done
done
echo "# openssl: $ok of $((n * 3)) signatures from $n processes at once"
cat err.* 2>/dev/null | grep -i -m3 -e error -e 0x | sed 's/^/# /'
[ "$ok" = $((n * 3)) ]
