/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake TPM for the resource manager's KUnit suites, and helpers to
 * drive the resource manager as a client would.  Included by the test
 * files only.
 *
 * The fake models what residency and session policy depend on: a few
 * object slots and session slots, a bound on sessions in existence,
 * ContextSave/ContextLoad/FlushContext with the TPM's rules (an object's
 * saved context can be loaded many times, a session's only once and back
 * at the same handle, a flush ends a session whether loaded or saved,
 * session handles are handed out lowest first), OBJECT_MEMORY,
 * SESSION_MEMORY, SESSION_HANDLES and CONTEXT_GAP, a clock, a way to
 * make the next command of a given code fail, and _TPM_Init with the
 * Startup and Shutdown rules that decide what survives it (fake_init()).
 */
#ifndef __TPM2_RM_FAKE_H__
#define __TPM2_RM_FAKE_H__

#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include "tpm.h"
#include <linux/unaligned.h>
#include "tpm2-rm.h"

#define FAKE_MAX_OBJECTS	8
#define FAKE_MAX_SESSIONS	16
#define CC_SIGN			0x15D

enum { S_FREE, S_LOADED, S_SAVED };

struct fake_tpm {
	unsigned int obj_slots, sess_slots;
	unsigned int max_active;	/* sessions in existence; 0: all */
	unsigned int gap;		/* CONTEXT_GAP_MAX; 0: none */
	u64 now;			/* the resource manager's clock, in ms */
	u32 objects[FAKE_MAX_OBJECTS];	/* object id, 0 = free slot */
	u8 sessions[FAKE_MAX_SESSIONS];	/* S_* */
	u64 session_seq[FAKE_MAX_SESSIONS];
	u32 next_id;
	u64 seq;
	unsigned int commands;
	unsigned int by_cc[0x200];
	u32 fail_cc;			/* make the next command of this code fail */
	unsigned int fail_nth;		/* or the fail_nth-th command of all */
	u32 fail_rc;			/* with this code (or -EIO if 0) */
	unsigned int fail_more;		/* and the next so many of fail_cc */
	u32 failed_cc;			/* the code of the last one failed */
	bool uninit;			/* _TPM_Init done, no Startup yet */
	bool shut_state;		/* the last Shutdown was (STATE) */
	u32 epoch;			/* TPM Resets: object contexts die */
	u64 ns;				/* time spent in the fake itself */
};

/* _TPM_Init: loaded objects and sessions are gone; Startup decides the rest. */
static __maybe_unused void fake_init(struct fake_tpm *f)
{
	unsigned int i;

	f->uninit = true;
	memset(f->objects, 0, sizeof(f->objects));
	for (i = 0; i < FAKE_MAX_SESSIONS; i++)
		if (f->sessions[i] == S_LOADED)
			f->sessions[i] = S_FREE;
}

static __maybe_unused unsigned int loaded_objects(struct fake_tpm *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->obj_slots; i++)
		n += f->objects[i] != 0;
	return n;
}

static __maybe_unused unsigned int sessions_in(struct fake_tpm *f, u8 state)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_MAX_SESSIONS; i++)
		n += f->sessions[i] == state;
	return n;
}

static __maybe_unused ssize_t rsp_rc(u8 *buf, u32 rc)
{
	return tpm2_rm_error_rsp(buf, rc);
}

static __maybe_unused ssize_t rsp_ok(u8 *buf, u16 tag, size_t len)
{
	put_unaligned_be16(tag, buf);
	put_unaligned_be32(len, buf + 2);
	put_unaligned_be32(0, buf + 6);
	return len;
}

static __maybe_unused int new_object(struct fake_tpm *f, u32 id)
{
	unsigned int i;

	for (i = 0; i < f->obj_slots; i++)
		if (!f->objects[i]) {
			f->objects[i] = id;
			return i;
		}
	return -1;
}

static __maybe_unused u32 *object_at(struct fake_tpm *f, u32 h)
{
	if (h < 0x80000000 || h - 0x80000000 >= f->obj_slots ||
	    !f->objects[h - 0x80000000])
		return NULL;
	return &f->objects[h - 0x80000000];
}

static __maybe_unused int session_index(u32 h)
{
	if (!tpm2_rm_is_session(h) || (h & 0xFFFFFF) >= FAKE_MAX_SESSIONS)
		return -1;
	return h & 0xFFFFFF;
}

/* Sequence of the oldest saved session, 0 if none. */
static __maybe_unused u64 oldest_saved(struct fake_tpm *f)
{
	unsigned int i;
	u64 min = 0;

	for (i = 0; i < FAKE_MAX_SESSIONS; i++)
		if (f->sessions[i] == S_SAVED &&
		    (!min || f->session_seq[i] < min))
			min = f->session_seq[i];
	return min;
}

/* TPMS_CONTEXT: sequence u64, savedHandle u32, hierarchy u32, TPM2B */
static __maybe_unused ssize_t do_context_save(struct fake_tpm *f, u8 *buf, u32 h)
{
	int s = session_index(h);
	u32 *obj = object_at(f, h);
	u32 id;

	if (s >= 0) {
		if (f->sessions[s] != S_LOADED)
			return rsp_rc(buf, 0x910);
		if (f->gap && oldest_saved(f) &&
		    f->seq + 1 - oldest_saved(f) > f->gap)
			return rsp_rc(buf, 0x901);
		f->sessions[s] = S_SAVED;
		f->session_seq[s] = ++f->seq;
		id = h;
	} else if (obj) {
		id = *obj;
		h = 0x80000000;
	} else {
		return rsp_rc(buf, 0x910);
	}
	put_unaligned_be64(s >= 0 ? f->seq : 0, buf + 10);
	put_unaligned_be32(h, buf + 18);
	put_unaligned_be32(TPM2_RS_PW + f->epoch, buf + 22);
	put_unaligned_be16(4, buf + 26);
	put_unaligned_be32(id, buf + 28);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 32);
}

static __maybe_unused ssize_t do_context_load(struct fake_tpm *f, u8 *buf)
{
	u32 saved = get_unaligned_be32(buf + 18);
	u32 id = get_unaligned_be32(buf + 28);
	int s = session_index(saved), slot;

	if (s >= 0) {
		if (f->sessions[s] != S_SAVED ||
		    f->session_seq[s] != get_unaligned_be64(buf + 10))
			return rsp_rc(buf, 0x1CB);
		if (sessions_in(f, S_LOADED) >= f->sess_slots)
			return rsp_rc(buf, TPM2_RC_SESSION_MEMORY);
		f->sessions[s] = S_LOADED;
		put_unaligned_be32(saved, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
	}
	if (get_unaligned_be32(buf + 22) != TPM2_RS_PW + f->epoch)
		return rsp_rc(buf, 0x1DF);	/* INTEGRITY: from before a Reset */
	slot = new_object(f, id);
	if (slot < 0)
		return rsp_rc(buf, TPM2_RC_OBJECT_MEMORY);
	put_unaligned_be32(0x80000000 + slot, buf + 10);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
}

static __maybe_unused ssize_t do_flush(struct fake_tpm *f, u8 *buf, u32 h)
{
	int s = session_index(h);
	u32 *obj = object_at(f, h);

	if (s >= 0 && f->sessions[s] != S_FREE)
		f->sessions[s] = S_FREE;
	else if (obj)
		*obj = 0;
	else
		return rsp_rc(buf, 0x1CB);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 10);
}

/* Sign(keyHandle) with the sessions of the command; a minimal response. */
static __maybe_unused ssize_t do_sign(struct fake_tpm *f, u8 *buf, size_t len)
{
	struct tpm2_rm_cmd cmd;
	u8 attrs[TPM2_RM_MAX_SESSIONS];
	unsigned int i, n;
	size_t off;
	int s;

	if (tpm2_rm_parse_cmd(buf, len, 1 << 25, &cmd))
		return rsp_rc(buf, TPM2_RC_COMMAND_SIZE);
	if (!object_at(f, cmd.handles[0]))
		return rsp_rc(buf, 0x910);
	for (i = 0; i < cmd.nr_sessions; i++) {
		s = session_index(cmd.sessions[i]);
		if (s >= 0 && f->sessions[s] != S_LOADED)
			return rsp_rc(buf, 0x918 + i);
		attrs[i] = cmd.session_attrs[i];
	}
	n = cmd.nr_sessions;
	for (i = 0; i < n; i++) {
		s = session_index(cmd.sessions[i]);
		if (s >= 0 && !(attrs[i] & TPM2_SA_CONTINUE_SESSION))
			f->sessions[s] = S_FREE;
	}
	off = 10;
	if (n) {
		put_unaligned_be32(0, buf + off);
		off += 4;
	}
	for (i = 0; i < n; i++) {
		put_unaligned_be16(0, buf + off);
		buf[off + 2] = attrs[i];
		put_unaligned_be16(0, buf + off + 3);
		off += 5;
	}
	return rsp_ok(buf, n ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS, off);
}

/*
 * Startup after fake_init(): (CLEAR) without a Shutdown(STATE) before is a
 * TPM Reset, which kills every saved context; otherwise they survive.
 */
static __maybe_unused ssize_t do_startup(struct fake_tpm *f, u8 *buf)
{
	unsigned int i;

	if (!f->uninit)
		return rsp_rc(buf, TPM2_RC_INITIALIZE);
	f->uninit = false;
	if (get_unaligned_be16(buf + 10) == TPM2_SU_CLEAR && !f->shut_state) {
		f->epoch++;
		f->seq = 0;
		for (i = 0; i < FAKE_MAX_SESSIONS; i++)
			f->sessions[i] = S_FREE;
	}
	f->shut_state = false;
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 10);
}

/* GetCapability(HANDLES) of loaded (0x02) or saved (0x03) sessions. */
static __maybe_unused ssize_t cap_sessions(struct fake_tpm *f, u8 *buf,
					   u32 first)
{
	u8 want = (first >> 24) == 0x02 ? S_LOADED : S_SAVED;
	unsigned int i, n = 0;

	for (i = first & 0xFFFFFF; i < FAKE_MAX_SESSIONS; i++)
		if (f->sessions[i] == want)
			put_unaligned_be32(0x02000000 + i, buf + 19 + 4 * n++);
	buf[10] = 0;
	put_unaligned_be32(TPM2_CAP_HANDLES, buf + 11);
	put_unaligned_be32(n, buf + 15);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 19 + 4 * n);
}

static __maybe_unused u32 fake_property(struct fake_tpm *f, u32 prop)
{
	switch (prop) {
	case TPM2_PT_HR_TRANSIENT_MIN:
		return f->obj_slots;
	case TPM2_PT_HR_LOADED_MIN:
		return f->sess_slots;
	case TPM2_PT_ACTIVE_SESSIONS_MAX:
		return f->max_active ?: FAKE_MAX_SESSIONS;
	case TPM2_PT_CONTEXT_GAP_MAX:
		return f->gap ?: 0xFFFF;
	}
	return 0;
}

static __maybe_unused u64 fake_now(struct tpm2_rm *rm)
{
	struct fake_tpm *f = rm->priv;

	return f->now;
}

/* StartAuthSession: is its sessionType TPM_SE_POLICY (or TRIAL)? */
static __maybe_unused bool policy_session(const u8 *buf, size_t len)
{
	size_t off = TPM_HEADER_SIZE + 8;

	if (get_unaligned_be16(buf) == TPM2_ST_SESSIONS && len >= off + 4)
		off += 4 + get_unaligned_be32(buf + off);
	/* nonceCaller, encryptedSalt, sessionType */
	if (len < off + 2)
		return false;
	off += 2 + get_unaligned_be16(buf + off);
	if (len < off + 2)
		return false;
	off += 2 + get_unaligned_be16(buf + off);
	return len > off && buf[off] != 0;
}

static __maybe_unused ssize_t fake_run(struct tpm2_rm *rm, u8 *buf, size_t len)
{
	struct fake_tpm *f = rm->priv;
	u32 cc = get_unaligned_be32(buf + 6);
	int slot;
	unsigned int i;

	f->commands++;
	f->by_cc[cc & 0x1FF]++;
	if (f->fail_cc == cc || (f->fail_nth && f->commands == f->fail_nth)) {
		f->failed_cc = cc;
		if (f->fail_cc == cc && f->fail_more)
			f->fail_more--;
		else
			f->fail_cc = 0;
		f->fail_nth = 0;
		if (!f->fail_rc)
			return -EIO;
		return rsp_rc(buf, f->fail_rc);
	}
	if (f->uninit && cc != TPM2_CC_STARTUP)
		return rsp_rc(buf, TPM2_RC_INITIALIZE);
	switch (cc) {
	case TPM2_CC_CONTEXT_SAVE:
		return do_context_save(f, buf, get_unaligned_be32(buf + 10));
	case TPM2_CC_CONTEXT_LOAD:
		return do_context_load(f, buf);
	case TPM2_CC_FLUSH_CONTEXT:
		return do_flush(f, buf, get_unaligned_be32(buf + 10));
	case TPM2_CC_CREATE_PRIMARY:
		slot = new_object(f, ++f->next_id);
		if (slot < 0)
			return rsp_rc(buf, TPM2_RC_OBJECT_MEMORY);
		put_unaligned_be32(0x80000000 + slot, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
	case TPM2_CC_START_AUTH_SESS:
		if (sessions_in(f, S_LOADED) >= f->sess_slots)
			return rsp_rc(buf, TPM2_RC_SESSION_MEMORY);
		for (i = 0; i < FAKE_MAX_SESSIONS; i++)
			if (f->sessions[i] == S_FREE)
				break;
		if (i == FAKE_MAX_SESSIONS ||
		    (f->max_active && FAKE_MAX_SESSIONS -
		     sessions_in(f, S_FREE) >= f->max_active))
			return rsp_rc(buf, 0x905);
		f->sessions[i] = S_LOADED;
		put_unaligned_be32((policy_session(buf, len) ? 0x03000000 :
				    0x02000000) + i, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
	case CC_SIGN:
		return do_sign(f, buf, len);
	case TPM2_CC_GET_CAPABILITY:
		if (get_unaligned_be32(buf + 10) == TPM2_CAP_HANDLES)
			return cap_sessions(f, buf, get_unaligned_be32(buf + 14));
		/* TPM_PT_HR_TRANSIENT_MIN or _LOADED_MIN */
		i = get_unaligned_be32(buf + 14);
		buf[10] = 0;
		put_unaligned_be32(TPM2_CAP_TPM_PROPERTIES, buf + 11);
		put_unaligned_be32(1, buf + 15);
		put_unaligned_be32(i, buf + 19);
		put_unaligned_be32(fake_property(f, i), buf + 23);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 27);
	case TPM2_CC_GET_RANDOM:
		put_unaligned_be16(0, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 12);
	case TPM2_CC_STARTUP:
		return do_startup(f, buf);
	case TPM2_CC_SHUTDOWN:
		f->shut_state = get_unaligned_be16(buf + 10) == TPM2_SU_STATE;
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 10);
	}
	return rsp_rc(buf, TPM2_RC_COMMAND_CODE);
}

/* What the resource manager sends to the TPM; the fake's time is kept. */
static __maybe_unused ssize_t fake_transmit(struct tpm2_rm *rm, u8 *buf, size_t len)
{
	struct fake_tpm *f = rm->priv;
	u64 t0 = ktime_get_ns();
	ssize_t ret = fake_run(rm, buf, len);

	f->ns += ktime_get_ns() - t0;
	return ret;
}

static __maybe_unused int fake_cc_attrs(struct tpm2_rm *rm, u32 cc, u32 *attrs)
{
	switch (cc) {
	case TPM2_CC_CONTEXT_SAVE:
	case TPM2_CC_FLUSH_CONTEXT:
	case CC_SIGN:
		*attrs = 1 << 25;
		return 0;
	case TPM2_CC_CREATE_PRIMARY:
		*attrs = (1 << 25) | TPM2_CC_ATTR_RHANDLE_BIT;
		return 0;
	case TPM2_CC_START_AUTH_SESS:
		*attrs = (2 << 25) | TPM2_CC_ATTR_RHANDLE_BIT;
		return 0;
	case TPM2_CC_CONTEXT_LOAD:
		*attrs = TPM2_CC_ATTR_RHANDLE_BIT;
		return 0;
	case TPM2_CC_GET_CAPABILITY:
	case TPM2_CC_GET_RANDOM:
	case TPM2_CC_STARTUP:
	case TPM2_CC_SHUTDOWN:
		*attrs = 0;
		return 0;
	}
	return -EOPNOTSUPP;
}

static const struct tpm2_rm_ops fake_ops = {
	.transmit = fake_transmit,
	.cc_attrs = fake_cc_attrs,
	.now_ms = fake_now,
};

/* ---- a test client ---- */

struct env {
	struct fake_tpm *f;
	struct tpm2_rm *rm;
	u8 *buf;
};

static __maybe_unused struct env *env_new(struct kunit *test, unsigned int objs,
					  unsigned int sess)
{
	struct env *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->f = kunit_kzalloc(test, sizeof(*e->f), GFP_KERNEL);
	e->buf = kunit_kzalloc(test, TPM_BUFSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e->f);
	KUNIT_ASSERT_NOT_NULL(test, e->buf);
	e->f->obj_slots = objs;
	e->f->sess_slots = sess;
	e->rm = tpm2_rm_alloc(&fake_ops, e->f);
	KUNIT_ASSERT_NOT_NULL(test, e->rm);
	return e;
}

static __maybe_unused void env_free(struct env *e)
{
	tpm2_rm_free(e->rm);
}

static __maybe_unused struct tpm2_rm_client *client_of(struct kunit *test,
						       struct env *e, uid_t uid)
{
	struct tpm2_rm_client *c;

	c = tpm2_rm_client_alloc(e->rm, KUIDT_INIT(uid));
	KUNIT_ASSERT_NOT_NULL(test, c);
	return c;
}

static __maybe_unused struct tpm2_rm_client *client(struct kunit *test, struct env *e)
{
	return client_of(test, e, 0);
}

/* Run a command; return the response code, or the errno if negative. */
static __maybe_unused s64 run(struct env *e, struct tpm2_rm_client *c, size_t len)
{
	ssize_t ret;

	put_unaligned_be32(len, e->buf + 2);
	ret = tpm2_rm_command(c, e->buf, TPM_BUFSIZE);
	if (ret < 0)
		return ret;
	return get_unaligned_be32(e->buf + 6);
}

static __maybe_unused void hdr(struct env *e, u16 tag, u32 cc)
{
	put_unaligned_be16(tag, e->buf);
	put_unaligned_be32(cc, e->buf + 6);
}

static __maybe_unused u32 create_primary(struct kunit *test, struct env *e,
					 struct tpm2_rm_client *c)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CREATE_PRIMARY);
	put_unaligned_be32(0x40000001, e->buf + 10);
	KUNIT_ASSERT_EQ(test, run(e, c, 14), 0);
	return get_unaligned_be32(e->buf + 10);
}

static __maybe_unused u32 start_session(struct kunit *test, struct env *e,
					struct tpm2_rm_client *c)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_START_AUTH_SESS);
	put_unaligned_be32(0x40000007, e->buf + 10);
	put_unaligned_be32(0x40000007, e->buf + 14);
	KUNIT_ASSERT_EQ(test, run(e, c, 18), 0);
	return get_unaligned_be32(e->buf + 10);
}

/*
 * An authorization area of one session at @p: its size, @handle, an
 * empty nonce, @attrs and an HMAC (or password) of @len bytes.
 * Return: the bytes written.
 */
static __maybe_unused size_t put_auth(u8 *p, u32 handle, u8 attrs,
				      const void *hmac, u16 len)
{
	put_unaligned_be32(9 + len, p);
	put_unaligned_be32(handle, p + 4);
	put_unaligned_be16(0, p + 8);
	p[10] = attrs;
	put_unaligned_be16(len, p + 11);
	if (len)
		memcpy(p + 13, hmac, len);
	return 13 + len;
}

static __maybe_unused s64 sign(struct env *e, struct tpm2_rm_client *c, u32 key,
			       u32 session, u8 attrs)
{
	hdr(e, session ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS, CC_SIGN);
	put_unaligned_be32(key, e->buf + 10);
	if (!session)
		return run(e, c, 14);
	return run(e, c, 14 + put_auth(e->buf + 14, session, attrs, NULL, 0));
}

static __maybe_unused s64 flush(struct env *e, struct tpm2_rm_client *c, u32 h)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_FLUSH_CONTEXT);
	put_unaligned_be32(h, e->buf + 10);
	return run(e, c, 14);
}

static __maybe_unused unsigned int cap_handles(struct env *e,
					       struct tpm2_rm_client *c,
					       u32 first, u32 count, u32 *out,
					       bool *more)
{
	unsigned int i, n;

	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_GET_CAPABILITY);
	put_unaligned_be32(TPM2_CAP_HANDLES, e->buf + 10);
	put_unaligned_be32(first, e->buf + 14);
	put_unaligned_be32(count, e->buf + 18);
	if (run(e, c, 22))
		return ~0u;
	*more = e->buf[10];
	n = get_unaligned_be32(e->buf + 15);
	for (i = 0; i < n; i++)
		out[i] = get_unaligned_be32(e->buf + 19 + 4 * i);
	return n;
}

/* StartAuthSession; the response code, or the errno if negative. */
static __maybe_unused s64 try_session(struct env *e, struct tpm2_rm_client *c,
				      u32 *h)
{
	s64 rc;

	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_START_AUTH_SESS);
	put_unaligned_be32(0x40000007, e->buf + 10);
	put_unaligned_be32(0x40000007, e->buf + 14);
	rc = run(e, c, 18);
	if (!rc)
		*h = get_unaligned_be32(e->buf + 10);
	return rc;
}

/*
 * StartAuthSession of @type (0 HMAC, 1 policy) with parameters; with
 * @audit, the command carries that session as an audit session.
 */
static __maybe_unused s64 try_session_of(struct env *e,
					 struct tpm2_rm_client *c, u8 type,
					 u32 audit, u32 *h)
{
	u8 *p = e->buf + 18;
	s64 rc;

	hdr(e, audit ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS,
	    TPM2_CC_START_AUTH_SESS);
	put_unaligned_be32(0x40000007, e->buf + 10);
	put_unaligned_be32(0x40000007, e->buf + 14);
	if (audit)				/* continueSession, audit */
		p += put_auth(p, audit, 0x81, NULL, 0);
	put_unaligned_be16(0, p);		/* nonceCaller */
	put_unaligned_be16(0, p + 2);		/* encryptedSalt */
	p[4] = type;
	put_unaligned_be16(0x0010, p + 5);	/* symmetric: TPM_ALG_NULL */
	put_unaligned_be16(0x000B, p + 7);	/* authHash: SHA256 */
	rc = run(e, c, p + 9 - e->buf);
	if (!rc)
		*h = get_unaligned_be32(e->buf + 10);
	return rc;
}

static __maybe_unused s64 context_save(struct env *e, struct tpm2_rm_client *c,
				       u32 h, u8 *blob, u32 *len)
{
	s64 rc;

	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_SAVE);
	put_unaligned_be32(h, e->buf + 10);
	rc = run(e, c, 14);
	if (!rc) {
		*len = get_unaligned_be32(e->buf + 2) - 10;
		memcpy(blob, e->buf + 10, *len);
	}
	return rc;
}

static __maybe_unused s64 context_load(struct env *e, struct tpm2_rm_client *c,
				       const u8 *blob, u32 len, u32 *h)
{
	s64 rc;

	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CONTEXT_LOAD);
	memcpy(e->buf + 10, blob, len);
	rc = run(e, c, 10 + len);
	if (!rc)
		*h = get_unaligned_be32(e->buf + 10);
	return rc;
}

#endif /* __TPM2_RM_FAKE_H__ */
