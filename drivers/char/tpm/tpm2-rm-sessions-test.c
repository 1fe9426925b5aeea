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
#include "tpm2-rm-fake.h"

#define WAIT		TPM2_RM_WAIT
#define RM_HANDLES	TPM2_RM_RC(TPM2_RC_SESSION_HANDLES)

static unsigned int saved_client_sessions;

static int sessions_init(struct kunit *test)
{
	saved_client_sessions = tpm2_rm_client_sessions;
	return 0;
}

static void sessions_exit(struct kunit *test)
{
	tpm2_rm_client_sessions = saved_client_sessions;
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
 * After the bound, the client furthest above its share gives up its
 * least recently used session; its owner is told on next use, without a
 * TPM command, and never reaches whoever gets the handle value next.
 */
static void revoke_without_aba(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *c[3];
	u32 x[3], y, z, h, key;
	unsigned int before, i;

	for (i = 0; i < 3; i++)
		c[i] = client(test, e);
	key = create_primary(test, e, c[0]);
	for (i = 0; i < 3; i++)
		x[i] = session(test, e, c[0]);
	y = session(test, e, c[1]);
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[1], 1), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[2], 1), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &z), WAIT);
	e->f->now += tpm2_rm_session_wait_ms;
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &z), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.revoked, 1);
	/* x[0] was c[0]'s least recently used: the TPM reused its value */
	KUNIT_EXPECT_EQ(test, z, x[0]);

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
	u32 x[3], z, h, key, len;
	unsigned int i;
	u8 blob[64];

	for (i = 0; i < 3; i++)
		c[i] = client(test, e);
	key = create_primary(test, e, c[0]);
	for (i = 0; i < 3; i++)
		x[i] = session(test, e, c[0]);
	session(test, e, c[1]);
	e->f->now += 2000;
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[1], 1), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c[0], key, x[2], 1), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, c[2], &z), WAIT);
	e->f->now += tpm2_rm_session_wait_ms;
	KUNIT_ASSERT_EQ(test, try_session(e, c[2], &z), 0);
	KUNIT_ASSERT_EQ(test, z, x[0]);
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

/* Hand-offs of closed clients are reclaimed before anyone waits. */
static void orphans_go_first(struct kunit *test)
{
	struct env *e = small_tpm(test, 4);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u8 blob[64];
	u32 len, h;
	unsigned int i;

	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, context_save(e, a, session(test, e, a),
						   blob, &len), 0);
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 4);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 4);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.reclaimed, 1);
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
	KUNIT_EXPECT_EQ(test, sign(e, a, key, s[0], 1), 0);
	KUNIT_EXPECT_EQ(test, e->rm->stats.regaps, 2);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sign(e, a, key, s[i], 1), 0);
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

static struct kunit_case tpm2_rm_sessions_cases[] = {
	KUNIT_CASE(admission_order),
	KUNIT_CASE(hold_and_wait),
	KUNIT_CASE(revoke_without_aba),
	KUNIT_CASE(tombstone_gives_way_to_load),
	KUNIT_CASE(within_share_is_safe),
	KUNIT_CASE(orphans_go_first),
	KUNIT_CASE(kernel_gets_a_session),
	KUNIT_CASE(regap),
	KUNIT_CASE(unexpected_gap),
	{}
};

static struct kunit_suite tpm2_rm_sessions_suite = {
	.name = "tpm2_rm_sessions",
	.init = sessions_init,
	.exit = sessions_exit,
	.test_cases = tpm2_rm_sessions_cases,
};

kunit_test_suites(&tpm2_rm_sessions_suite);
