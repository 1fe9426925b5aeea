#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tpm2-tools-flow.sh N DIR: what a user of tpm2-tools does, end to end,
# through the device TCTI on /dev/tpmrm0, in DIR.  N (0-15) picks this
# copy's NV index and persistent handle, so that copies can run at once.
# Prints the step that failed and exits non-zero on the first failure.
set -eu
n=$1
cd "$2"
export TPM2TOOLS_TCTI=${TPM2TOOLS_TCTI:-device:/dev/tpmrm0}
nv=$((0x1500010 + n))
persist=$((0x81000010 + n))
nonce=$(printf "c0de%04x" "$n")
step() { echo "# copy $n: $*"; }
trap 'echo "# copy $n: FAILED at: $BASH_COMMAND" >&2' ERR

step primary and child keys, RSA and ECC
tpm2_createprimary -Q -C o -g sha256 -G ecc -c prim.ctx
tpm2_create -Q -C prim.ctx -G rsa2048 -u rsa.pub -r rsa.priv
tpm2_create -Q -C prim.ctx -G ecc -u ecc.pub -r ecc.priv
tpm2_load -Q -C prim.ctx -u ecc.pub -r ecc.priv -c ecc.ctx
tpm2_load -Q -C prim.ctx -u rsa.pub -r rsa.priv -c rsa.ctx

step sign and verify
echo "message of copy $n" > msg
tpm2_sign -Q -c ecc.ctx -g sha256 -o ecc.sig msg
tpm2_verifysignature -Q -c ecc.ctx -g sha256 -s ecc.sig -m msg
tpm2_sign -Q -c rsa.ctx -g sha256 -o rsa.sig msg
tpm2_verifysignature -Q -c rsa.ctx -g sha256 -s rsa.sig -m msg

step seal and unseal under a password
echo "secret $n" > secret
tpm2_create -Q -C prim.ctx -i secret -p pw$n -u seal.pub -r seal.priv
tpm2_load -Q -C prim.ctx -u seal.pub -r seal.priv -c seal.ctx
tpm2_unseal -c seal.ctx -p pw$n | cmp - secret

step seal and unseal under a PCR policy
tpm2_startauthsession -S trial.ctx
tpm2_policypcr -Q -S trial.ctx -l sha256:0,1 -L pcr.policy
tpm2_flushcontext trial.ctx
tpm2_create -Q -C prim.ctx -L pcr.policy -i secret -u pseal.pub -r pseal.priv
tpm2_load -Q -C prim.ctx -u pseal.pub -r pseal.priv -c pseal.ctx
tpm2_startauthsession --policy-session -S policy.ctx
tpm2_policypcr -Q -S policy.ctx -l sha256:0,1
tpm2_unseal -c pseal.ctx -p session:policy.ctx | cmp - secret
tpm2_flushcontext policy.ctx

step quote and checkquote
tpm2_readpublic -Q -c ecc.ctx -o ecc.pem -f pem
tpm2_quote -Q -c ecc.ctx -l sha256:0,1,2 -q $nonce -m quote.msg \
	-s quote.sig -o quote.pcrs -g sha256
tpm2_checkquote -Q -u ecc.pem -m quote.msg -s quote.sig -f quote.pcrs \
	-g sha256 -q $nonce

step NV define, write, read, undefine
tpm2_nvdefine -Q $nv -C o -s 32 -a "ownerread|ownerwrite"
echo "nv $n" > nv.in
tpm2_nvwrite -Q $nv -C o -i nv.in
tpm2_nvread -Q $nv -C o -s "$(stat -c %s nv.in)" -o nv.out
cmp nv.in nv.out
tpm2_nvundefine -Q $nv -C o

step hash and HMAC sequences
head -c 5000 /dev/urandom > big
tpm2_hash -Q -g sha256 -o big.hash big
sha256sum big | cut -d' ' -f1 | xxd -r -p | cmp - big.hash
tpm2_create -Q -C prim.ctx -G hmac -c hmac.ctx
tpm2_hmac -Q -c hmac.ctx -g sha256 -o big.hmac big

step parameter-encrypted HMAC session
tpm2_startauthsession -S enc.ctx --hmac-session -c prim.ctx
tpm2_getrandom -Q -S enc.ctx -o rand 16
tpm2_sessionconfig enc.ctx --enable-encrypt --enable-decrypt
tpm2_create -Q -C prim.ctx -i secret -u encseal.pub -r encseal.priv -S enc.ctx
tpm2_flushcontext enc.ctx

step import an external key
openssl ecparam -name prime256v1 -genkey -noout -out ext.pem 2>/dev/null
tpm2_import -Q -C prim.ctx -G ecc -i ext.pem -u ext.pub -r ext.priv
tpm2_load -Q -C prim.ctx -u ext.pub -r ext.priv -c ext.ctx
tpm2_sign -Q -c ext.ctx -g sha256 -o ext.sig msg
tpm2_verifysignature -Q -c ext.ctx -g sha256 -s ext.sig -m msg

step evict control to a persistent handle and back
tpm2_evictcontrol -Q -C o -c ecc.ctx $persist
tpm2_sign -Q -c $persist -g sha256 -o p.sig msg
tpm2_verifysignature -Q -c $persist -g sha256 -s p.sig -m msg
tpm2_evictcontrol -Q -C o -c $persist

step done
