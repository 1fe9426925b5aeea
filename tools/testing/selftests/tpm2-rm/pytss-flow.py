# SPDX-License-Identifier: GPL-2.0
"""ESAPI through tpm2-pytss on /dev/tpmrm0 (run by test_pytss.py with
the distribution's python3): sessions with parameter encryption, more
than three loaded objects in one ESYS context, and many ESYS contexts
open at once in one process."""
import hashlib
import sys

from tpm2_pytss import ESAPI, TCTILdr
from tpm2_pytss.constants import (ESYS_TR, TPM2_ALG, TPM2_SE, TPM2_ST,
                                  TPMA_SESSION, TPM2_RH)
from tpm2_pytss.types import (TPM2B_DIGEST, TPM2B_PUBLIC, TPMT_SIG_SCHEME,
                              TPMT_SYM_DEF, TPMT_TK_HASHCHECK)

DEV = sys.argv[1] if len(sys.argv) > 1 else "/dev/tpmrm0"


def esapi():
    return ESAPI(TCTILdr("device", DEV))


def enc_session(e, key):
    sym = TPMT_SYM_DEF(algorithm=TPM2_ALG.AES)
    sym.keyBits.aes = 128
    sym.mode.aes = TPM2_ALG.CFB
    s = e.start_auth_session(tpm_key=key, bind=ESYS_TR.NONE,
                             session_type=TPM2_SE.HMAC, symmetric=sym,
                             auth_hash=TPM2_ALG.SHA256)
    e.trsess_set_attributes(s, TPMA_SESSION.CONTINUESESSION |
                            TPMA_SESSION.DECRYPT | TPMA_SESSION.ENCRYPT)
    return s


def sign(e, key, session=ESYS_TR.PASSWORD):
    digest = TPM2B_DIGEST(hashlib.sha256(b"pytss").digest())
    scheme = TPMT_SIG_SCHEME(scheme=TPM2_ALG.ECDSA)
    scheme.details.any.hashAlg = TPM2_ALG.SHA256
    ticket = TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK, hierarchy=TPM2_RH.NULL)
    return e.sign(key, digest, scheme, ticket, session1=session)


def main():
    with esapi() as e:
        parent = e.create_primary(None, "ecc")[0]
        s = enc_session(e, parent)
        rnd = e.get_random(16, session1=s)
        assert len(bytes(rnd)) == 16
        # six keys loaded in one context, all used, twice
        tmpl = TPM2B_PUBLIC.parse("ecc:ecdsa-sha256",
                                  objectAttributes="sign|userwithauth|"
                                  "fixedtpm|fixedparent|sensitivedataorigin")
        keys = []
        for _ in range(6):
            priv, pub = e.create(parent, None, tmpl, session1=ESYS_TR.PASSWORD)[:2]
            keys.append(e.load(parent, priv, pub))
        for _ in range(2):
            for k in keys:
                sign(e, k)
        print("# pytss: 6 keys in one ESYS context, parameter encryption: ok")
        # many ESYS contexts at once in this process
        ctxs = [esapi() for _ in range(8)]
        prims = [c.create_primary(None, "ecc")[0] for c in ctxs]
        sess = [enc_session(c, p) for c, p in zip(ctxs, prims)]
        for c, ss in zip(ctxs, sess):
            c.get_random(8, session1=ss)
        for c in ctxs:
            c.close()
        print("# pytss: 8 ESYS contexts at once: ok")
        e.flush_context(s)


if __name__ == "__main__":
    main()
