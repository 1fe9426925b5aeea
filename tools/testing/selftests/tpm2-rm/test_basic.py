# SPDX-License-Identifier: GPL-2.0
"""Basic use of /dev/tpmrm0 that any resource manager must get right."""
import os

from common import Client, TPMError, run_clients
import tpm2rm


def test_get_random():
    with Client() as c:
        assert len(c.get_random(32)) == 32


def test_sign_loop_with_session():
    with Client() as c:
        primary = c.create_primary(tpm2rm.ATTR_SIGN)
        s = c.start_session()
        for _ in range(20):
            c.sign(primary, s)
        c.flush(s.handle)
        c.flush(primary)


def test_child_key_load_sign():
    with Client() as c:
        parent = c.create_primary()
        priv, pub = c.create(parent)
        key = c.load(parent, priv, pub)
        c.sign(key)
        s = c.start_session()
        c.sign(key, s)


def test_unknown_transient_handle_is_einval():
    with Client() as c:
        try:
            c.flush(0x80123456)
        except OSError as e:
            assert e.errno == 22, e
            return
        raise AssertionError("flush of an unknown handle was accepted")


def test_handles_are_per_client():
    with Client() as a, Client() as b:
        a.create_primary()
        b.create_primary()
        b.create_primary()
        assert len(a.handles(tpm2rm.HR_TRANSIENT)) == 1
        assert len(b.handles(tpm2rm.HR_TRANSIENT)) == 2


def test_eight_clients_sign():
    def work(i, bar):
        with Client() as c:
            key = c.create_primary(tpm2rm.ATTR_SIGN)
            s = c.start_session()
            bar.wait()
            for _ in range(5):
                c.sign(key, s)
    errs = run_clients(8, work)
    assert errs == [None] * 8, errs


def test_close_frees_everything():
    with Client() as c:
        c.create_primary()
        c.start_session()
    with Client("/dev/tpm0") as raw:
        assert raw.handles(tpm2rm.HR_TRANSIENT) == []
