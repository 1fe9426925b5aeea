// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager's decisions, against a
 * fake TPM.
 *
 * The fake models what residency depends on: a few object slots and
 * session slots, ContextSave/ContextLoad/FlushContext with the TPM's
 * rules (an object's saved context can be loaded many times, a session's
 * only once and back at the same handle, a flush ends a session whether
 * loaded or saved), OBJECT_MEMORY and SESSION_MEMORY when full, and a
 * way to make the next command of a given code fail.
 */
#include <kunit/test.h>
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
	u32 objects[FAKE_MAX_OBJECTS];	/* object id, 0 = free slot */
	u8 sessions[FAKE_MAX_SESSIONS];	/* S_* */
	u64 session_seq[FAKE_MAX_SESSIONS];
	u32 next_id;
	u64 seq;
	unsigned int commands;
	unsigned int by_cc[0x200];
	u32 fail_cc;			/* make the next command of this code fail */
	u32 fail_rc;			/* with this code (or -EIO if 0) */
};

static unsigned int loaded_objects(struct fake_tpm *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->obj_slots; i++)
		n += f->objects[i] != 0;
	return n;
}

static unsigned int sessions_in(struct fake_tpm *f, u8 state)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_MAX_SESSIONS; i++)
		n += f->sessions[i] == state;
	return n;
}

static ssize_t rsp_rc(u8 *buf, u32 rc)
{
	return tpm2_rm_error_rsp(buf, rc);
}

static ssize_t rsp_ok(u8 *buf, u16 tag, size_t len)
{
	put_unaligned_be16(tag, buf);
	put_unaligned_be32(len, buf + 2);
	put_unaligned_be32(0, buf + 6);
	return len;
}

static int new_object(struct fake_tpm *f, u32 id)
{
	unsigned int i;

	for (i = 0; i < f->obj_slots; i++)
		if (!f->objects[i]) {
			f->objects[i] = id;
			return i;
		}
	return -1;
}

static u32 *object_at(struct fake_tpm *f, u32 h)
{
	if (h < 0x80000000 || h - 0x80000000 >= f->obj_slots ||
	    !f->objects[h - 0x80000000])
		return NULL;
	return &f->objects[h - 0x80000000];
}

static int session_index(u32 h)
{
	if (!tpm2_rm_is_session(h) || (h & 0xFFFFFF) >= FAKE_MAX_SESSIONS)
		return -1;
	return h & 0xFFFFFF;
}

/* TPMS_CONTEXT: sequence u64, savedHandle u32, hierarchy u32, TPM2B */
static ssize_t do_context_save(struct fake_tpm *f, u8 *buf, u32 h)
{
	int s = session_index(h);
	u32 *obj = object_at(f, h);
	u32 id;

	if (s >= 0) {
		if (f->sessions[s] != S_LOADED)
			return rsp_rc(buf, 0x910);
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
	put_unaligned_be32(TPM2_RS_PW, buf + 22);
	put_unaligned_be16(4, buf + 26);
	put_unaligned_be32(id, buf + 28);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 32);
}

static ssize_t do_context_load(struct fake_tpm *f, u8 *buf)
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
	slot = new_object(f, id);
	if (slot < 0)
		return rsp_rc(buf, TPM2_RC_OBJECT_MEMORY);
	put_unaligned_be32(0x80000000 + slot, buf + 10);
	return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
}

static ssize_t do_flush(struct fake_tpm *f, u8 *buf, u32 h)
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
static ssize_t do_sign(struct fake_tpm *f, u8 *buf, size_t len)
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

static ssize_t fake_transmit(struct tpm2_rm *rm, u8 *buf, size_t len)
{
	struct fake_tpm *f = rm->priv;
	u32 cc = get_unaligned_be32(buf + 6);
	int slot;
	unsigned int i;

	f->commands++;
	f->by_cc[cc & 0x1FF]++;
	if (f->fail_cc == cc) {
		f->fail_cc = 0;
		if (!f->fail_rc)
			return -EIO;
		return rsp_rc(buf, f->fail_rc);
	}
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
		if (i == FAKE_MAX_SESSIONS)
			return rsp_rc(buf, 0x905);
		f->sessions[i] = S_LOADED;
		put_unaligned_be32(0x02000000 + i, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 14);
	case CC_SIGN:
		return do_sign(f, buf, len);
	case TPM2_CC_GET_CAPABILITY:
		/* TPM_PT_HR_TRANSIENT_MIN or _LOADED_MIN */
		i = get_unaligned_be32(buf + 14);
		buf[10] = 0;
		put_unaligned_be32(TPM2_CAP_TPM_PROPERTIES, buf + 11);
		put_unaligned_be32(1, buf + 15);
		put_unaligned_be32(i, buf + 19);
		put_unaligned_be32(i == 0x10E ? f->obj_slots : f->sess_slots,
				   buf + 23);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 27);
	case TPM2_CC_GET_RANDOM:
		put_unaligned_be16(0, buf + 10);
		return rsp_ok(buf, TPM2_ST_NO_SESSIONS, 12);
	}
	return rsp_rc(buf, TPM2_RC_COMMAND_CODE);
}

static int fake_cc_attrs(struct tpm2_rm *rm, u32 cc, u32 *attrs)
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
		*attrs = 0;
		return 0;
	}
	return -EOPNOTSUPP;
}

static const struct tpm2_rm_ops fake_ops = {
	.transmit = fake_transmit,
	.cc_attrs = fake_cc_attrs,
};

/* ---- a test client ---- */

struct env {
	struct fake_tpm *f;
	struct tpm2_rm *rm;
	u8 *buf;
};

static struct env *env_new(struct kunit *test, unsigned int objs,
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

static void env_free(struct env *e)
{
	tpm2_rm_free(e->rm);
}

static struct tpm2_rm_client *client(struct kunit *test, struct env *e)
{
	struct tpm2_rm_client *c = tpm2_rm_client_alloc(e->rm);

	KUNIT_ASSERT_NOT_NULL(test, c);
	return c;
}

/* Run a command; return the response code, or the errno if negative. */
static s64 run(struct env *e, struct tpm2_rm_client *c, size_t len)
{
	ssize_t ret;

	put_unaligned_be32(len, e->buf + 2);
	ret = tpm2_rm_command(c, e->buf, TPM_BUFSIZE);
	if (ret < 0)
		return ret;
	return get_unaligned_be32(e->buf + 6);
}

static void hdr(struct env *e, u16 tag, u32 cc)
{
	put_unaligned_be16(tag, e->buf);
	put_unaligned_be32(cc, e->buf + 6);
}

static u32 create_primary(struct kunit *test, struct env *e,
			  struct tpm2_rm_client *c)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CREATE_PRIMARY);
	put_unaligned_be32(0x40000001, e->buf + 10);
	KUNIT_ASSERT_EQ(test, run(e, c, 14), 0);
	return get_unaligned_be32(e->buf + 10);
}

static u32 start_session(struct kunit *test, struct env *e,
			 struct tpm2_rm_client *c)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_START_AUTH_SESS);
	put_unaligned_be32(0x40000007, e->buf + 10);
	put_unaligned_be32(0x40000007, e->buf + 14);
	KUNIT_ASSERT_EQ(test, run(e, c, 18), 0);
	return get_unaligned_be32(e->buf + 10);
}

static s64 sign(struct env *e, struct tpm2_rm_client *c, u32 key, u32 session,
		u8 attrs)
{
	hdr(e, session ? TPM2_ST_SESSIONS : TPM2_ST_NO_SESSIONS, CC_SIGN);
	put_unaligned_be32(key, e->buf + 10);
	if (!session)
		return run(e, c, 14);
	put_unaligned_be32(9, e->buf + 14);
	put_unaligned_be32(session, e->buf + 18);
	put_unaligned_be16(0, e->buf + 22);
	e->buf[24] = attrs;
	put_unaligned_be16(0, e->buf + 25);
	return run(e, c, 27);
}

static s64 flush(struct env *e, struct tpm2_rm_client *c, u32 h)
{
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_FLUSH_CONTEXT);
	put_unaligned_be32(h, e->buf + 10);
	return run(e, c, 14);
}

static unsigned int cap_handles(struct env *e, struct tpm2_rm_client *c,
				u32 first, u32 count, u32 *out, bool *more)
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

/* ---- cases ---- */

/* A client signing in a loop costs one TPM command per command. */
static void steady_state_one_command(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 key = create_primary(test, e, c);
	u32 s = start_session(test, e, c);
	unsigned int before = e->f->commands, i;

	for (i = 0; i < 50; i++)
		KUNIT_EXPECT_EQ(test, sign(e, c, key, s, 1), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands - before, 50);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* 16 objects and 8 sessions in one client on a 3+3 TPM, all usable. */
static void more_than_the_tpm_holds(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 keys[16], s[8];
	unsigned int i, saves;

	for (i = 0; i < 16; i++)
		keys[i] = create_primary(test, e, c);
	for (i = 0; i < 8; i++)
		s[i] = start_session(test, e, c);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, sign(e, c, keys[i], s[i % 8], 1), 0);
	KUNIT_EXPECT_LE(test, loaded_objects(e->f), 3);
	KUNIT_EXPECT_LE(test, sessions_in(e->f, S_LOADED), 3);

	/* save-once: a second round saves no object again */
	saves = e->f->by_cc[TPM2_CC_CONTEXT_SAVE & 0x1FF];
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, sign(e, c, keys[i], 0, 0), 0);
	KUNIT_EXPECT_EQ(test, e->f->by_cc[TPM2_CC_CONTEXT_SAVE & 0x1FF], saves);

	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* The least recently used context is evicted, whoever holds it. */
static void lru_across_clients(struct kunit *test)
{
	struct env *e = env_new(test, 2, 3);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u32 ka = create_primary(test, e, a);
	u32 kb = create_primary(test, e, b);
	unsigned int before;

	KUNIT_EXPECT_EQ(test, sign(e, a, ka, 0, 0), 0);	/* kb is now LRU */
	create_primary(test, e, a);			/* evicts kb */
	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, sign(e, a, ka, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands - before, 1);	/* ka stayed */
	KUNIT_EXPECT_EQ(test, sign(e, b, kb, 0, 0), 0);	/* kb comes back */
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

/* No client reaches another's handles. */
static void isolation(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u32 ka = create_primary(test, e, a);
	u32 ka2 = create_primary(test, e, a);
	u32 sa = start_session(test, e, a);
	u32 kb = create_primary(test, e, b);
	u32 list[8];
	bool more;

	/* b cannot name a's second key: virtual handles are per client */
	KUNIT_EXPECT_EQ(test, sign(e, b, ka2, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, flush(e, b, ka2), -EINVAL);
	/* nor use, nor flush a's session */
	KUNIT_EXPECT_EQ(test, sign(e, b, kb, sa, 1),
			TPM2_RM_RC(TPM2_RC_HANDLE | TPM2_RC_S | (1 << 8)));
	KUNIT_EXPECT_EQ(test, flush(e, b, sa),
			TPM2_RM_RC(TPM2_RC_HANDLE | TPM2_RC_P | (1 << 8)));
	KUNIT_EXPECT_EQ(test, sign(e, a, ka, sa, 1), 0);
	/* and sees only its own handles */
	KUNIT_EXPECT_EQ(test, cap_handles(e, b, 0x80000000, 8, list, &more), 1);
	KUNIT_EXPECT_EQ(test, list[0], kb);
	KUNIT_EXPECT_EQ(test, cap_handles(e, b, 0x02000000, 8, list, &more), 0);
	KUNIT_EXPECT_EQ(test, cap_handles(e, a, 0x02000000, 8, list, &more), 1);
	KUNIT_EXPECT_EQ(test, list[0], sa);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	env_free(e);
}

/* GetCapability honours property, count and moreData. */
static void cap_handles_paging(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 list[8], keys[5];
	unsigned int i;
	bool more;

	for (i = 0; i < 5; i++)
		keys[i] = create_primary(test, e, c);
	KUNIT_EXPECT_EQ(test, cap_handles(e, c, 0x80000000, 2, list, &more), 2);
	KUNIT_EXPECT_TRUE(test, more);
	KUNIT_EXPECT_LT(test, list[0], list[1]);
	KUNIT_EXPECT_EQ(test, cap_handles(e, c, list[1] + 1, 8, list, &more), 3);
	KUNIT_EXPECT_FALSE(test, more);
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/* Flushing an evicted object costs no TPM command; unknown is EINVAL. */
static void flush_evicted_is_free(struct kunit *test)
{
	struct env *e = env_new(test, 1, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 k1 = create_primary(test, e, c);
	unsigned int before;

	create_primary(test, e, c);	/* evicts k1 */
	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, flush(e, c, k1), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands, before);
	KUNIT_EXPECT_EQ(test, flush(e, c, k1), -EINVAL);
	KUNIT_EXPECT_EQ(test, flush(e, c, 0x80123456), -EINVAL);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

/* continueSession clear: the TPM ended the session, so does the RM. */
static void session_ends_with_command(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 key = create_primary(test, e, c);
	u32 s = start_session(test, e, c);
	u32 list[4];
	bool more;

	KUNIT_EXPECT_EQ(test, sign(e, c, key, s, 0), 0);
	KUNIT_EXPECT_EQ(test, cap_handles(e, c, 0x02000000, 4, list, &more), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c, key, s, 1),
			TPM2_RM_RC(TPM2_RC_HANDLE | TPM2_RC_S | (1 << 8)));
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/* Something else took a slot: evict and repeat, the client never sees it. */
static void object_memory_is_retried(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);

	create_primary(test, e, c);
	create_primary(test, e, c);
	e->f->objects[2] = 999;		/* a kernel caller's object */
	create_primary(test, e, c);
	KUNIT_EXPECT_EQ(test, e->rm->stats.retries, 1);
	e->f->objects[0] = 0;
	e->f->objects[1] = 0;
	e->f->objects[2] = 0;
	tpm2_rm_client_free(c, false);
	env_free(e);
}

/* A failing ContextSave during eviction fails the command, loses nothing. */
static void failed_eviction_is_clean(struct kunit *test)
{
	struct env *e = env_new(test, 1, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 k1 = create_primary(test, e, c);
	s64 rc;

	/*
	 * The save of k1 fails: k1 stays resident, the TPM answers
	 * OBJECT_MEMORY, and the second eviction attempt succeeds.
	 */
	e->f->fail_cc = TPM2_CC_CONTEXT_SAVE;
	e->f->fail_rc = 0x101;
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CREATE_PRIMARY);
	put_unaligned_be32(0x40000001, e->buf + 10);
	rc = run(e, c, 14);
	KUNIT_EXPECT_EQ(test, rc, 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.retries, 1);
	/* k1 is still there and usable */
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0), 0);
	/* and a transport error is an errno */
	e->f->fail_cc = CC_SIGN;
	e->f->fail_rc = 0;
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0), -EIO);
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0), 0);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

/* A context the TPM no longer accepts is reported, not hidden. */
static void lost_context_is_reported(struct kunit *test)
{
	struct env *e = env_new(test, 1, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 k1 = create_primary(test, e, c);

	create_primary(test, e, c);	/* evicts k1 */
	e->f->fail_cc = TPM2_CC_CONTEXT_LOAD;
	e->f->fail_rc = 0x1DF;		/* TPM_RC_INTEGRITY: e.g. a TPM reset */
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0),
			TPM2_RM_RC(TPM2_RC_REFERENCE_H0));
	/* again, without asking the TPM */
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0),
			TPM2_RM_RC(TPM2_RC_REFERENCE_H0));
	KUNIT_EXPECT_EQ(test, flush(e, c, k1), 0);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

/* Kernel callers get room from what clients keep resident. */
static void room_for_kernel_callers(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u8 cmd[14];

	create_primary(test, e, c);
	create_primary(test, e, c);
	create_primary(test, e, c);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 3);
	put_unaligned_be16(TPM2_ST_NO_SESSIONS, cmd);
	put_unaligned_be32(14, cmd + 2);
	put_unaligned_be32(TPM2_CC_CREATE_PRIMARY, cmd + 6);
	put_unaligned_be32(0x40000007, cmd + 10);
	tpm2_rm_foreign_room(e->rm, cmd, sizeof(cmd));
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 2);
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/* Close flushes everything, including evicted sessions. */
static void close_flushes_everything(struct kunit *test)
{
	struct env *e = env_new(test, 2, 2);
	struct tpm2_rm_client *c = client(test, e);
	unsigned int i;

	for (i = 0; i < 5; i++) {
		create_primary(test, e, c);
		start_session(test, e, c);
	}
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_SAVED), 3);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	KUNIT_EXPECT_EQ(test, e->rm->nr_objects, 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_sessions, 0);
	env_free(e);
}

static struct kunit_case tpm2_rm_core_cases[] = {
	KUNIT_CASE(steady_state_one_command),
	KUNIT_CASE(more_than_the_tpm_holds),
	KUNIT_CASE(lru_across_clients),
	KUNIT_CASE(isolation),
	KUNIT_CASE(cap_handles_paging),
	KUNIT_CASE(flush_evicted_is_free),
	KUNIT_CASE(session_ends_with_command),
	KUNIT_CASE(object_memory_is_retried),
	KUNIT_CASE(failed_eviction_is_clean),
	KUNIT_CASE(lost_context_is_reported),
	KUNIT_CASE(room_for_kernel_callers),
	KUNIT_CASE(close_flushes_everything),
	{}
};

static struct kunit_suite tpm2_rm_core_suite = {
	.name = "tpm2_rm_core",
	.test_cases = tpm2_rm_core_cases,
};

kunit_test_suites(&tpm2_rm_core_suite);
