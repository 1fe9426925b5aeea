// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager's session policy
 * (tpm2-rm-sessions.c): admission, fair-share revocation without ABA,
 * hand-off and the context gap, against the fake TPM of tpm2-rm-fake.h
 * configured small (4 sessions in existence, 2 loaded, a gap of 16).
 *
 * Nothing sleeps here: a command that would wait returns %TPM2_RM_WAIT,
 * and the test plays the waiter by running it again.
 */
#include <linux/prandom.h>
#include "tpm2-rm-fake.h"

#define WAIT		TPM2_RM_WAIT
#define RM_HANDLES	TPM2_RM_RC(TPM2_RC_SESSION_HANDLES)

static unsigned int saved_client_sessions, saved_user_sessions;

static int sessions_init(struct kunit *test)
{
	saved_client_sessions = tpm2_rm_client_sessions;
	saved_user_sessions = tpm2_rm_user_sessions;
	return 0;
}

static void sessions_exit(struct kunit *test)
{
	tpm2_rm_client_sessions = saved_client_sessions;
	tpm2_rm_user_sessions = saved_user_sessions;
}

static struct env *small_tpm(struct kunit *test, unsigned int per_client)
{
	struct env *e = env_new(test, 3, 2);

	e->f->max_active = 4;
	e->f->gap = 16;
	e->f->now = 1000;
	tpm2_rm_client_sessions = per_client;
	return e;
}

static u32 session(struct kunit *test, struct env *e, struct tpm2_rm_client *c)
{
	u32 h = 0;

	KUNIT_ASSERT_EQ(test, try_session(e, c, &h), 0);
	return h;
}

static void close_all(struct env *e, struct tpm2_rm_client **c,
		      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (c[i])
			tpm2_rm_client_free(c[i], true);
}

/* Waiters are served in order, holders first; claims lapse when idle. */
static void admission_order(struct kunit *test)
{
	struct env *e = small_tpm(test, 2);
	struct tpm2_rm_client *c[4];
	u32 x[2], y[2], h;
	unsigned int i;

	for (i = 0; i < 4; i++)
		c[i] = client(test, e);
	x[0] = session(test, e, c[0]);
	x[1] = session(test, e, c[0]);
	/* c[0] holds 2 and claims 1 more: no room for c[1]'s claim */
	KUNIT_EXPECT_EQ(test, try_session(e, c[1], &h), WAIT);
	e->f->now += 2000;			/* c[0]'s claim lapses */
	y[0] = session(test, e, c[1]);
	y[1] = session(test, e, c[1]);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 4);

	/* the TPM is full: c[2] then c[3] wait */
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &h), WAIT);
	KUNIT_EXPECT_EQ(test, try_session(e, c[3], &h), WAIT);
	KUNIT_EXPECT_EQ(test, flush(e, c[1], y[1]), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[3], &h), WAIT);	/* c[2] first */
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &h), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[3], &h), WAIT);

	/* a holder goes before a client that holds nothing */
	KUNIT_EXPECT_EQ(test, try_session(e, c[1], &h), WAIT);
	KUNIT_EXPECT_EQ(test, flush(e, c[0], x[1]), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[3], &h), WAIT);
	KUNIT_EXPECT_EQ(test, try_session(e, c[1], &h), 0);
	/* a signal ends c[3]'s wait with a response, and dequeues it */
	KUNIT_EXPECT_EQ(test, tpm2_rm_wait_cancel(c[3]),
			TPM2_RM_RC(TPM2_RC_CANCELED));
	KUNIT_EXPECT_EQ(test, c[3]->wait_ticket, 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], create_primary(test, e, c[0]),
				   x[0], 1), 0);

	close_all(e, c, 4);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* Holders all waiting for more: the youngest fails, the others go on. */
static void hold_and_wait(struct kunit *test)
{
	struct env *e = small_tpm(test, 3);
	struct tpm2_rm_client *c[2];
	u32 h, a;

	c[0] = client(test, e);
	c[1] = client(test, e);
	a = session(test, e, c[0]);
	session(test, e, c[0]);
	e->f->now += 2000;
	session(test, e, c[1]);
	session(test, e, c[1]);
	KUNIT_EXPECT_EQ(test, try_session(e, c[0], &h), WAIT);
	KUNIT_EXPECT_EQ(test, try_session(e, c[1], &h), RM_HANDLES);
	/* nothing c[1] held is lost; c[0] waits until c[1] lets go */
	KUNIT_EXPECT_EQ(test, c[1]->nr_sessions, 2);
	KUNIT_EXPECT_EQ(test, try_session(e, c[0], &h), WAIT);
	tpm2_rm_client_free(c[1], true);
	c[1] = NULL;
	KUNIT_EXPECT_EQ(test, try_session(e, c[0], &h), 0);
	KUNIT_EXPECT_NE(test, h, a);
	close_all(e, c, 2);
	env_free(e);
}

/*
 * On a TPM for 4 sessions: c[0] holds a key and x[0..2], c[1] holds y,
 * and c[2], after waiting, gets a session by the revocation of x[0],
 * c[0]'s least recently used, at x[0]'s handle value.  Returns the key.
 */
static u32 revoke_lru(struct kunit *test, struct env *e,
		      struct tpm2_rm_client **c, u32 *x, u32 *y)
{
	unsigned int i;
	u32 key, z;

	for (i = 0; i < 3; i++)
		c[i] = client(test, e);
	key = create_primary(test, e, c[0]);
	for (i = 0; i < 3; i++)
		x[i] = session(test, e, c[0]);
	*y = session(test, e, c[1]);
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[1], 1), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[2], 1), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &z), WAIT);
	e->f->now += tpm2_rm_session_wait_ms;
	KUNIT_ASSERT_EQ(test, try_session(e, c[2], &z), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.revoked, 1);
	KUNIT_ASSERT_EQ(test, z, x[0]);
	return key;
}

/*
 * After the bound, the client furthest above its share gives up its
 * least recently used session; its owner is told on next use, without a
 * TPM command, and never reaches whoever gets the handle value next.
 */
static void revoke_without_aba(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *c[3];
	u32 x[3], y, z, h, key;
	unsigned int before;

	/* x[0] was c[0]'s least recently used: the TPM reuses its value */
	key = revoke_lru(test, e, c, x, &y);
	z = x[0];

	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[0], 1),
			TPM2_RM_RC(TPM2_RC_REFERENCE_S0));
	KUNIT_EXPECT_EQ(test, e->f->commands, before);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[1], 1), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[1], create_primary(test, e, c[1]),
				   y, 1), 0);

	/*
	 * The TPM offers x[0] to c[0] itself: it must get another value,
	 * which takes a second free session...
	 */
	KUNIT_EXPECT_EQ(test, flush(e, c[2], z), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[0], &h), RM_HANDLES);
	/* ...and then works */
	KUNIT_EXPECT_EQ(test, flush(e, c[1], y), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[0], &h), 0);
	KUNIT_EXPECT_NE(test, h, x[0]);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[0], 1),
			TPM2_RM_RC(TPM2_RC_REFERENCE_S0));
	/* flushing the tombstone is free and ends the refusals */
	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, flush(e, c[0], x[0]), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands, before);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[0], 1),
			TPM2_RM_RC(TPM2_RC_HANDLE | TPM2_RC_S | (1 << 8)));

	close_all(e, c, 3);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/*
 * A client loading a saved context whose handle value it holds a revoked
 * entry for is told of the session by the load itself: the entry gives
 * way, and the session is usable and can be flushed.
 */
static void tombstone_gives_way_to_load(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *c[3];
	u32 x[3], y, z, h, key, len;
	u8 blob[64];

	key = revoke_lru(test, e, c, x, &y);
	z = x[0];
	KUNIT_ASSERT_EQ(test, context_save(e, c[2], z, blob, &len), 0);
	KUNIT_ASSERT_EQ(test, context_load(e, c[0], blob, len, &h), 0);
	KUNIT_EXPECT_EQ(test, h, x[0]);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, h, 1), 0);
	KUNIT_EXPECT_EQ(test, flush(e, c[0], h), 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 3);
	close_all(e, c, 3);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/*
 * The TPM gives c[0], which holds a revoked entry of x[0], the handle
 * x[0] again, for a StartAuthSession that carries an audit session.
 * Repeating that command would extend the audit digest twice and roll
 * the audit session's nonces behind the client's back: it is sent once,
 * and the new session takes the revoked entry's place.
 */
static void no_replay_with_sessions(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *c[3];
	u32 x[3], y, h, key;
	unsigned int before;

	key = revoke_lru(test, e, c, x, &y);
	KUNIT_EXPECT_EQ(test, flush(e, c[2], x[0]), 0);

	before = e->f->by_cc[TPM2_CC_START_AUTH_SESS & 0x1FF];
	KUNIT_ASSERT_EQ(test, try_session_of(e, c[0], 0, x[1], &h), 0);
	KUNIT_EXPECT_EQ(test, e->f->by_cc[TPM2_CC_START_AUTH_SESS & 0x1FF],
			before + 1);
	KUNIT_EXPECT_EQ(test, h, x[0]);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, h, 1), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[1], create_primary(test, e, c[1]),
				   y, 1), 0);
	close_all(e, c, 3);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/*
 * The TPM knows a session by its index: FlushContext of 0x02000000
 * ends the policy session 0x03000000.  A client's entry the TPM no
 * longer has (ended behind the resource manager's back) must not let
 * it end another's session that took the index, of another type.
 */
static void sessions_known_by_index(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u32 key = create_primary(test, e, b), hs, ps;

	hs = start_session(test, e, a);
	e->f->sessions[hs & 0xFFFFFF] = S_FREE;	/* unseen by the RM */
	KUNIT_ASSERT_EQ(test, try_session_of(e, b, 1, 0, &ps), 0);
	KUNIT_ASSERT_EQ(test, ps, 0x03000000 | (hs & 0xFFFFFF));
	KUNIT_EXPECT_NE(test, flush(e, a, hs), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_LOADED), 1);
	KUNIT_EXPECT_EQ(test, sign(e, b, key, ps, 1), 0);
	/* b may name its own session by either type, as the TPM does */
	KUNIT_EXPECT_EQ(test, flush(e, b, 0x02000000 | (ps & 0xFFFFFF)), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

static struct tpm2_rm_client *client_in(struct kunit *test, struct env *e,
					pid_t pid)
{
	struct tpm2_rm_client *c = client(test, e);

	c->pid = pid;
	return c;
}

/*
 * A single-threaded process blocked in write() cannot release anything
 * while its command waits.  When only that process holds sessions,
 * waiting cannot help: the command is answered at once, as it would be
 * after the wait.  When another process holds one, it waits.
 */
static void own_process_is_not_waited_for(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client_in(test, e, 100);
	struct tpm2_rm_client *b = client_in(test, e, 100);
	struct tpm2_rm_client *d;
	u32 h;

	session(test, e, a);
	session(test, e, a);
	session(test, e, a);
	e->f->now += 2000;			/* a's claim lapses */
	session(test, e, b);			/* all 4 are taken */
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), WAIT);
	tpm2_rm_wait_cancel(b);
	b->alone = true;
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.revoked, 1);
	KUNIT_EXPECT_EQ(test, a->nr_sessions, 2);

	/* another process holds one: it may end it */
	tpm2_rm_client_free(a, true);
	e->f->now += 2000;
	d = client_in(test, e, 200);
	session(test, e, d);
	session(test, e, d);
	e->f->now += 2000;
	a = client_in(test, e, 100);
	a->alone = true;
	KUNIT_EXPECT_EQ(test, try_session(e, a, &h), WAIT);
	tpm2_rm_wait_cancel(a);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	tpm2_rm_client_free(d, true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* Nobody above its share: the waiter fails after the bound, nobody loses. */
static void within_share_is_safe(struct kunit *test)
{
	struct env *e = small_tpm(test, 2);
	struct tpm2_rm_client *c[5];
	u32 s[4], h, key;
	unsigned int i;

	for (i = 0; i < 5; i++)
		c[i] = client(test, e);
	for (i = 0; i < 4; i++) {
		s[i] = session(test, e, c[i]);
		e->f->now += 2000;
	}
	KUNIT_EXPECT_EQ(test, try_session(e, c[4], &h), WAIT);
	e->f->now += tpm2_rm_session_wait_ms;
	KUNIT_EXPECT_EQ(test, try_session(e, c[4], &h), RM_HANDLES);
	KUNIT_EXPECT_EQ(test, e->rm->stats.revoked, 0);
	for (i = 0; i < 4; i++) {
		key = create_primary(test, e, c[i]);
		KUNIT_EXPECT_EQ(test, sign(e, c[i], key, s[i], 1), 0);
		KUNIT_EXPECT_EQ(test, flush(e, c[i], key), 0);
	}
	/* a client at its own bound is refused at once */
	KUNIT_EXPECT_EQ(test, flush(e, c[0], s[0]), 0);
	session(test, e, c[4]);
	KUNIT_EXPECT_EQ(test, flush(e, c[2], s[2]), 0);
	session(test, e, c[1]);
	KUNIT_EXPECT_EQ(test, flush(e, c[3], s[3]), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[1], &h), RM_HANDLES);
	close_all(e, c, 5);
	env_free(e);
}

/*
 * Hand-offs of closed clients are reclaimed before anyone's session is
 * revoked, once a quarter of rm_session_wait_ms old: a younger one is
 * about to be loaded by the next process of a pipeline, and the waiter
 * waits for it instead.  Whoever loads one that was ended is told so.
 */
static void orphans_go_first(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u8 blob[64], first[64];
	unsigned int i, before;
	u32 len, h;

	for (i = 0; i < 4; i++) {
		KUNIT_ASSERT_EQ(test, context_save(e, a, session(test, e, a),
						   blob, &len), 0);
		if (!i)
			memcpy(first, blob, len);
	}
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 4);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 4);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), WAIT);
	KUNIT_EXPECT_EQ(test, b->wait_ms, tpm2_rm_session_wait_ms / 4);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 0);
	e->f->now += tpm2_rm_session_wait_ms / 4;
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 1);
	/* loading the one ended is refused as the TPM would, by the RM */
	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, context_load(e, b, first, len, &h),
			TPM2_RM_RC(TPM2_RC_HANDLE | TPM2_RC_P |
				   (1 << TPM2_RC_N_SHIFT)));
	KUNIT_EXPECT_EQ(test, e->f->commands, before);
	/* the newest hand-off is still there for whoever loads it */
	KUNIT_EXPECT_EQ(test, context_load(e, b, blob, len, &h), 0);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 2);
	e->f->now += tpm2_rm_orphan_ms;
	a = client(test, e);
	session(test, e, a);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 0);
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* The kernel's own StartAuthSession cannot wait: a client gives way. */
static void kernel_gets_a_session(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	unsigned int i;
	bool full;

	for (i = 0; i < 3; i++)
		session(test, e, a);
	session(test, e, b);
	full = tpm2_rm_foreign_retry_rc(e->rm, TPM2_CC_START_AUTH_SESS,
					TPM2_RC_SESSION_HANDLES);
	KUNIT_EXPECT_TRUE(test, full);
	KUNIT_EXPECT_EQ(test, a->nr_sessions, 2);
	KUNIT_EXPECT_EQ(test, b->nr_sessions, 1);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	env_free(e);
}

/*
 * A session saved for a long time stays loadable while others are saved
 * thousands of times: the resource manager's own evicted one, and one
 * the client saved itself.
 */
static void regap(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a, *b;
	u32 sa, sc, s1, s2, h, key, kb, len;
	unsigned int i;
	u8 blob[64];

	e->f->sess_slots = 1;
	a = client(test, e);
	b = client(test, e);
	key = create_primary(test, e, a);
	sa = session(test, e, a);
	sc = session(test, e, a);
	KUNIT_ASSERT_EQ(test, context_save(e, a, sc, blob, &len), 0);
	s1 = session(test, e, b);
	s2 = session(test, e, b);
	kb = create_primary(test, e, b);
	/* one session slot: each use of s1 or s2 saves the other */
	for (i = 0; i < 2000; i++)
		KUNIT_ASSERT_EQ(test, sign(e, b, kb, i & 1 ? s1 : s2, 1), 0);
	KUNIT_EXPECT_GT(test, e->f->seq, 1000);
	KUNIT_EXPECT_GT(test, e->rm->stats.regaps, 0);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, sa, 1), 0);
	KUNIT_EXPECT_EQ(test, context_load(e, a, blob, len, &h), 0);
	KUNIT_EXPECT_EQ(test, h, sc);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, sc, 1), 0);

	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* A CONTEXT_GAP the resource manager did not see coming is recovered. */
static void unexpected_gap(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e);
	u32 s[3], key, h, len;
	unsigned int i;
	u8 blob[64];

	key = create_primary(test, e, a);
	for (i = 0; i < 3; i++)
		s[i] = session(test, e, a);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sign(e, a, key, s[i], 1), 0);
	/* s[0] is saved; the client saves s[2] and the TPM says GAP */
	e->f->fail_cc = TPM2_CC_CONTEXT_SAVE;
	e->f->fail_rc = TPM2_RC_CONTEXT_GAP;
	KUNIT_EXPECT_EQ(test, context_save(e, a, s[2], blob, &len), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.regaps, 1);
	KUNIT_EXPECT_EQ(test, context_load(e, a, blob, len, &h), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sign(e, a, key, s[i], 1), 0);
	/* and when the resource manager's own save meets it */
	e->f->fail_cc = TPM2_CC_CONTEXT_SAVE;
	e->f->fail_rc = TPM2_RC_CONTEXT_GAP;
	for (i = 0; i < 3 && e->f->fail_cc; i++)
		KUNIT_EXPECT_EQ(test, sign(e, a, key, s[i], 1), 0);
	KUNIT_EXPECT_EQ(test, e->f->fail_cc, 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.regaps, 2);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sign(e, a, key, s[i], 1), 0);
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/* ---- hostile tenants ---- */

#define UID_A		1000
#define UID_B		2000

/*
 * The books against the TPM and the bounds, after every step: sessions
 * in existence are the clients' plus the orphans, each user's count is
 * its clients' plus its orphans, nobody but root above its bound, the
 * claim and queue counters add up, and the fake TPM holds exactly the
 * sessions the resource manager counts.
 */
static void check_books(struct kunit *test, struct env *e)
{
	struct tpm2_rm *rm = e->rm;
	unsigned int live = 0, claims = 0, waiting = 0, wholders = 0;
	unsigned int holders = 0, wanting = 0, n, bkt;
	struct tpm2_rm_client *c;
	struct tpm2_rm_user *u;
	struct tpm2_rm_ctx *ctx;

	list_for_each_entry(c, &rm->clients, node) {
		n = 0;
		list_for_each_entry(ctx, &c->ctxs, node)
			if (ctx->kind == TPM2_RM_SESSION && !ctx->revoked)
				n++;
		KUNIT_EXPECT_EQ(test, c->nr_sessions, n);
		KUNIT_EXPECT_LE(test, n, tpm2_rm_client_sessions ?: 64u);
		live += n;
		claims += c->claim;
		holders += !!n;
		if (c->queue != TPM2_RM_Q_NONE) {
			waiting++;
			wholders += c->queue == TPM2_RM_Q_HOLDERS && n;
			wanting += !n;
		}
	}
	list_for_each_entry(ctx, &rm->orphans, node)
		live++;
	KUNIT_EXPECT_EQ(test, rm->nr_live, live);
	KUNIT_EXPECT_EQ(test, rm->claims, claims);
	KUNIT_EXPECT_EQ(test, rm->nr_waiting, waiting);
	KUNIT_EXPECT_EQ(test, rm->nr_waiting_holders, wholders);
	KUNIT_EXPECT_EQ(test, rm->nr_wanting, wanting);
	KUNIT_EXPECT_EQ(test, rm->nr_holders, holders);
	hash_for_each(rm->users, bkt, u, node) {
		n = 0;
		list_for_each_entry(c, &rm->clients, node)
			if (c->user == u)
				n += c->nr_sessions;
		list_for_each_entry(ctx, &rm->orphans, node)
			if (ctx->user == u)
				n++;
		KUNIT_EXPECT_EQ(test, u->nr_sessions, n);
		if (!uid_eq(u->uid, GLOBAL_ROOT_UID) && tpm2_rm_user_sessions)
			KUNIT_EXPECT_LE(test, n, tpm2_rm_user_sessions);
	}
	KUNIT_EXPECT_EQ(test, FAKE_MAX_SESSIONS - sessions_in(e->f, S_FREE),
			rm->nr_live);
}

/*
 * A user at its bound who waits gets no session by revoking another
 * user's, however idle and however many (measured on swtpm before:
 * uid 1000 at rm_user_sessions=4 took one of root's 20).
 */
static void user_bound_revokes_nothing(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *root, *a[3];
	u32 h;

	tpm2_rm_user_sessions = 2;
	root = client(test, e);
	a[0] = client_of(test, e, UID_A);
	a[1] = client_of(test, e, UID_A);
	a[2] = client_of(test, e, UID_A);
	session(test, e, root);
	session(test, e, root);
	e->f->now += 2000;
	session(test, e, a[0]);
	e->f->now += 2000;
	session(test, e, a[1]);
	e->f->now += 2000;
	check_books(test, e);
	KUNIT_EXPECT_EQ(test, try_session(e, a[2], &h), WAIT);
	KUNIT_EXPECT_EQ(test, a[2]->queue, TPM2_RM_Q_USER);
	e->f->now += tpm2_rm_session_wait_ms;
	KUNIT_EXPECT_EQ(test, try_session(e, a[2], &h), RM_HANDLES);
	KUNIT_EXPECT_EQ(test, e->rm->stats.revoked, 0);
	KUNIT_EXPECT_EQ(test, root->nr_sessions, 2);
	KUNIT_EXPECT_EQ(test, a[2]->user->nr_sessions, 2);
	check_books(test, e);
	/* one of its user's sessions ends: the waiter is woken and goes */
	KUNIT_EXPECT_EQ(test, try_session(e, a[2], &h), WAIT);
	tpm2_rm_client_free(a[0], true);
	a[0] = NULL;
	KUNIT_EXPECT_EQ(test, try_session(e, a[2], &h), 0);
	check_books(test, e);
	tpm2_rm_client_free(a[1], true);
	tpm2_rm_client_free(a[2], true);
	tpm2_rm_client_free(root, true);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/*
 * Hand-offs count toward their user: a user at its bound by hand-offs
 * ends its own oldest one to start a session, never another user's; a
 * ContextLoad that would take a client or a user over its bound is
 * refused at once, and the hand-off stays for whoever may load it.
 */
static void handoffs_count_toward_their_user(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a, *b, *r;
	u32 la, lr, h, ha, hr;
	u8 ba[64], br[64];

	tpm2_rm_user_sessions = 2;
	r = client(test, e);
	hr = session(test, e, r);
	KUNIT_ASSERT_EQ(test, context_save(e, r, hr, br, &lr), 0);
	tpm2_rm_client_free(r, true);
	a = client_of(test, e, UID_A);
	session(test, e, a);
	ha = session(test, e, a);
	KUNIT_ASSERT_EQ(test, context_save(e, a, ha, ba, &la), 0);
	tpm2_rm_client_free(a, true);
	check_books(test, e);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 2);

	/* uid A holds one orphan; another client of A loads it... */
	a = client_of(test, e, UID_A);
	KUNIT_EXPECT_EQ(test, context_load(e, a, ba, la, &h), 0);
	KUNIT_EXPECT_EQ(test, h, ha);
	check_books(test, e);
	session(test, e, a);
	e->f->now += 2000;
	/* ...A is at its bound: root's hand-off cannot be taken over */
	KUNIT_EXPECT_EQ(test, context_load(e, a, br, lr, &h), RM_HANDLES);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 1);
	/* nor ended for A's next session: A waits for its own */
	b = client_of(test, e, UID_A);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), WAIT);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 0);
	KUNIT_EXPECT_EQ(test, tpm2_rm_wait_cancel(b),
			TPM2_RM_RC(TPM2_RC_CANCELED));
	check_books(test, e);

	/* A's own hand-off goes first when A is at its bound */
	KUNIT_ASSERT_EQ(test, context_save(e, a, ha, ba, &la), 0);
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 2);
	a = client_of(test, e, UID_A);
	session(test, e, a);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 0);
	e->f->now += 2000;
	session(test, e, a);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 1);
	check_books(test, e);
	e->f->now += 2000;
	/* root's hand-off is still there, and loads */
	r = client(test, e);
	KUNIT_EXPECT_EQ(test, context_load(e, r, br, lr, &h), 0);
	KUNIT_EXPECT_EQ(test, h, hr);
	check_books(test, e);

	/*
	 * A client at its own bound cannot take a hand-off either, but
	 * reloading its own saved session is no new session.
	 */
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_sessions = 1;
	KUNIT_ASSERT_EQ(test, context_save(e, r, hr, br, &lr), 0);
	KUNIT_EXPECT_EQ(test, context_load(e, r, br, lr, &h), 0);
	KUNIT_ASSERT_EQ(test, context_save(e, r, hr, br, &lr), 0);
	tpm2_rm_client_free(r, true);
	r = client(test, e);
	e->f->now += 2000;
	session(test, e, r);
	KUNIT_EXPECT_EQ(test, context_load(e, r, br, lr, &h), RM_HANDLES);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 1);
	check_books(test, e);

	tpm2_rm_client_free(r, true);
	tpm2_rm_client_free(b, true);
	/* root's hand-off is kept until someone needs its session */
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 1);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS - 1);
	env_free(e);
}

/* A command that is not a successful StartAuthSession ends a claim. */
static void claims_lapse(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u32 h;

	session(test, e, a);
	/* a holds 1 and claims 2 more: 3 free are too few for b's claim */
	KUNIT_EXPECT_EQ(test, e->rm->claims, 2);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), WAIT);
	e->f->now += 500;
	/* a malformed command: too short, then an unknown code */
	hdr(e, TPM2_ST_NO_SESSIONS, 0x1FF);
	KUNIT_EXPECT_EQ(test, run(e, a, 6),
			TPM2_RM_RC(TPM2_RC_COMMAND_SIZE));
	KUNIT_EXPECT_EQ(test, e->rm->claims, 0);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, tpm2_rm_wait_cancel(b),
			TPM2_RM_RC(TPM2_RC_CANCELED));

	/* a StartAuthSession the TPM refuses keeps no claim either */
	e->f->now += 2000;
	tpm2_rm_client_free(b, true);
	b = client(test, e);
	e->f->fail_cc = TPM2_CC_START_AUTH_SESS;
	e->f->fail_rc = TPM2_RC_FMT1 | 0x0B;	/* a bad value */
	KUNIT_EXPECT_EQ(test, try_session(e, a, &h), TPM2_RC_FMT1 | 0x0B);
	KUNIT_EXPECT_EQ(test, e->rm->claims, 0);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	/* and a claim lapses by itself a second after the last session */
	KUNIT_EXPECT_EQ(test, e->rm->claims, 2);
	e->f->now += 1000;
	tpm2_rm_client_free(a, true);
	a = client(test, e);
	KUNIT_EXPECT_EQ(test, try_session(e, a, &h), 0);
	check_books(test, e);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	env_free(e);
}

/*
 * A freed session wakes the one waiter it can serve, not all of them;
 * waiters that cannot be served are not woken at all.
 */
static void one_wake_per_session(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *h[4], *w[20];
	unsigned long seq[20];
	unsigned int i, woken;
	u32 s[4], x;

	for (i = 0; i < 4; i++) {
		h[i] = client(test, e);
		s[i] = session(test, e, h[i]);
		e->f->now += 2000;
	}
	for (i = 0; i < 20; i++) {
		w[i] = client(test, e);
		KUNIT_EXPECT_EQ(test, try_session(e, w[i], &x), WAIT);
	}
	check_books(test, e);
	for (i = 0; i < 20; i++)
		seq[i] = w[i]->wake_seq;
	KUNIT_EXPECT_EQ(test, flush(e, h[0], s[0]), 0);
	for (woken = 0, i = 0; i < 20; i++)
		woken += w[i]->wake_seq != seq[i];
	KUNIT_EXPECT_EQ(test, woken, 1);
	KUNIT_EXPECT_NE(test, w[0]->wake_seq, seq[0]);
	/* the others are still behind it, and it goes */
	KUNIT_EXPECT_EQ(test, try_session(e, w[1], &x), WAIT);
	KUNIT_EXPECT_EQ(test, try_session(e, w[0], &x), 0);
	check_books(test, e);
	for (i = 0; i < 4; i++)
		tpm2_rm_client_free(h[i], true);
	for (i = 0; i < 20; i++)
		tpm2_rm_client_free(w[i], true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_waiting, 0);
	env_free(e);
}

/*
 * A waiter held back by its own user's bound is not "waiting for more"
 * in the hold-and-wait test: no innocent holder fails because of it.
 */
static void user_bound_is_no_deadlock(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *r, *a, *b;
	u32 h;

	tpm2_rm_user_sessions = 1;
	r = client(test, e);
	a = client_of(test, e, UID_A);
	b = client_of(test, e, UID_B);
	session(test, e, r);
	session(test, e, r);
	e->f->now += 2000;
	session(test, e, a);
	e->f->now += 2000;
	session(test, e, b);		/* the youngest holder */
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, try_session(e, r, &h), WAIT);
	KUNIT_EXPECT_EQ(test, try_session(e, a, &h), WAIT);	/* own bound */
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), WAIT);
	KUNIT_EXPECT_EQ(test, e->rm->stats.wait_failed, 0);
	check_books(test, e);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	tpm2_rm_client_free(r, true);
	env_free(e);
}

/* GetCapability(HANDLES, 0x03000000) lists the client's saved sessions. */
static void saved_sessions_listed(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e);
	u32 s[2], out[4], len;
	unsigned int n;
	bool more;
	u8 blob[64];

	s[0] = session(test, e, a);
	s[1] = session(test, e, a);
	KUNIT_ASSERT_EQ(test, context_save(e, a, s[1], blob, &len), 0);
	n = cap_handles(e, a, 0x03000000, 4, out, &more);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, out[0], s[1]);
	KUNIT_EXPECT_FALSE(test, more);
	n = cap_handles(e, a, 0x02000000, 4, out, &more);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, out[0], s[0]);
	n = cap_handles(e, a, 0x03000000 | ((s[1] & 0xFFFFFF) + 1), 4, out,
			&more);
	KUNIT_EXPECT_EQ(test, n, 0);
	tpm2_rm_client_free(a, true);
	env_free(e);
}

/*
 * Random schedules of hostile and ordinary clients of three users:
 * starts, flushes, saves, hand-offs, loads of others' contexts, closes,
 * malformed commands, cancelled waits and time passing.  The books hold
 * after every step, and every waiter is done within its bound.
 */
static void random_schedules(struct kunit *test)
{
	static const uid_t uids[] = { 0, UID_A, UID_B };
	struct tpm2_rm_client *c[8];
	u32 h[8], hl[8], lens[8], x;
	struct rnd_state rnd;
	struct env *e;
	unsigned int seed, step, i, op;
	u8 (*blobs)[64];
	s64 rc;

	blobs = kunit_kzalloc(test, 8 * 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, blobs);
	for (seed = 1; seed <= 20; seed++) {
		e = small_tpm(test, seed % 3 ? 3 : 0);
		e->f->max_active = 8;
		e->f->sess_slots = 3;
		tpm2_rm_user_sessions = seed % 2 ? 3 : 0;
		prandom_seed_state(&rnd, seed);
		for (i = 0; i < 8; i++) {
			c[i] = client_of(test, e, uids[i % 3]);
			h[i] = 0;
			lens[i] = 0;
		}
		for (step = 0; step < 400; step++) {
			i = prandom_u32_state(&rnd) % 8;
			op = prandom_u32_state(&rnd) % 10;
			e->f->now += prandom_u32_state(&rnd) % 700;
			switch (op) {
			case 0: case 1: case 2:
				rc = try_session(e, c[i], &x);
				/* past its bound only behind one who can go */
				if (rc == WAIT && e->f->now - c[i]->wait_since >=
				    tpm2_rm_session_wait_ms)
					KUNIT_EXPECT_LT(test, e->rm->nr_live, 8);
				if (!rc)
					h[i] = x;
				else if (rc == WAIT &&
					 prandom_u32_state(&rnd) % 2)
					tpm2_rm_wait_cancel(c[i]);
				else
					KUNIT_EXPECT_TRUE(test, rc == WAIT ||
							  rc == RM_HANDLES);
				break;
			case 3:
				if (h[i])
					flush(e, c[i], h[i]);
				h[i] = 0;
				break;
			case 4:
				if (h[i] && !context_save(e, c[i], h[i],
							  blobs[i], &lens[i]))
					hl[i] = h[i];
				break;
			case 5:	/* load someone's saved context */
				x = prandom_u32_state(&rnd) % 8;
				if (lens[x] && !context_load(e, c[i], blobs[x],
							     lens[x], &h[i]))
					lens[x] = 0;
				break;
			case 6:	/* close and open again */
				tpm2_rm_client_free(c[i], true);
				c[i] = client_of(test, e, uids[i % 3]);
				h[i] = 0;
				break;
			case 7:	/* malformed */
				hdr(e, TPM2_ST_SESSIONS, TPM2_CC_START_AUTH_SESS);
				run(e, c[i], 12);
				break;
			case 8:
				if (hl[i])
					sign(e, c[i], 0x80000000, hl[i], 1);
				break;
			default:
				e->f->now += tpm2_rm_session_wait_ms / 4;
				break;
			}
			check_books(test, e);
		}
		for (i = 0; i < 8; i++)
			tpm2_rm_client_free(c[i], true);
		e->f->now += tpm2_rm_orphan_ms;
		c[0] = client(test, e);
		session(test, e, c[0]);
		tpm2_rm_client_free(c[0], true);
		KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
		KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE),
				FAKE_MAX_SESSIONS);
		env_free(e);
	}
}

static struct kunit_case tpm2_rm_sessions_cases[] = {
	KUNIT_CASE(admission_order),
	KUNIT_CASE(hold_and_wait),
	KUNIT_CASE(revoke_without_aba),
	KUNIT_CASE(tombstone_gives_way_to_load),
	KUNIT_CASE(no_replay_with_sessions),
	KUNIT_CASE(sessions_known_by_index),
	KUNIT_CASE(own_process_is_not_waited_for),
	KUNIT_CASE(within_share_is_safe),
	KUNIT_CASE(orphans_go_first),
	KUNIT_CASE(kernel_gets_a_session),
	KUNIT_CASE(regap),
	KUNIT_CASE(unexpected_gap),
	KUNIT_CASE(user_bound_revokes_nothing),
	KUNIT_CASE(handoffs_count_toward_their_user),
	KUNIT_CASE(claims_lapse),
	KUNIT_CASE(one_wake_per_session),
	KUNIT_CASE(user_bound_is_no_deadlock),
	KUNIT_CASE(saved_sessions_listed),
	KUNIT_CASE(random_schedules),
	{}
};

static struct kunit_suite tpm2_rm_sessions_suite = {
	.name = "tpm2_rm_sessions",
	.init = sessions_init,
	.exit = sessions_exit,
	.test_cases = tpm2_rm_sessions_cases,
};

kunit_test_suites(&tpm2_rm_sessions_suite);
