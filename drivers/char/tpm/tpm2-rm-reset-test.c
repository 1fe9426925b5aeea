// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for what the TPM 2.0 resource manager does when the TPM
 * forgets what it held (tpm2-rm-reset.c): a _TPM_Init behind its back,
 * then a TPM Reset, Restart or Resume started through /dev/tpmN, against
 * the fake TPM of tpm2-rm-fake.h.
 */
#include "tpm2-rm-fake.h"

#define RM_INITIALIZE	TPM2_RM_RC(TPM2_RC_INITIALIZE)
#define RM_LOST_H0	TPM2_RM_RC(TPM2_RC_REFERENCE_H0)
#define RM_LOST_S0	TPM2_RM_RC(TPM2_RC_REFERENCE_S0)

/*
 * A command written to /dev/tpmN, as the chip glue runs it: everything
 * the resource manager holds is evicted first, and the response code is
 * shown to it afterwards.
 */
/* Startup or Shutdown straight to the fake TPM: the response code. */
static u32 send_su(struct env *e, u32 cc, u16 su)
{
	u8 *buf = e->rm->io;

	put_unaligned_be16(TPM2_ST_NO_SESSIONS, buf);
	put_unaligned_be32(TPM_HEADER_SIZE + 2, buf + 2);
	put_unaligned_be32(cc, buf + 6);
	put_unaligned_be16(su, buf + 10);
	if (fake_transmit(e->rm, buf, TPM_HEADER_SIZE + 2) < 0)
		return ~0u;
	return get_unaligned_be32(buf + 6);
}

static u32 raw(struct env *e, u32 cc, u16 su)
{
	u32 rc;

	tpm2_rm_evict_all(e->rm);
	rc = send_su(e, cc, su);
	tpm2_rm_foreign_retry_rc(e->rm, cc, rc);
	return rc;
}

static void expect_empty(struct kunit *test, struct env *e)
{
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	KUNIT_EXPECT_EQ(test, e->rm->nr_objects, 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_sessions, 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 0);
}

/*
 * The TPM is initialised with keys and a session loaded, then reset.
 * Until the Startup the TPM's INITIALIZE reaches the client, and a key
 * that needs loading is answered RM | INITIALIZE without being given up.
 * After it, the client is told about each lost context when it names it,
 * a new client works at once, and closing frees everything.
 */
static void reset_loses_what_it_must(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b;
	u32 key[4], s, k, t;
	unsigned int i, before;

	for (i = 0; i < 4; i++)
		key[i] = create_primary(test, e, a);	/* key[0] is evicted */
	s = start_session(test, e, a);
	KUNIT_ASSERT_EQ(test, sign(e, a, key[3], s, 1), 0);

	fake_init(e->f);
	KUNIT_EXPECT_EQ(test, sign(e, a, key[3], s, 1), TPM2_RC_INITIALIZE);
	KUNIT_EXPECT_EQ(test, sign(e, a, key[0], 0, 0), RM_INITIALIZE);
	KUNIT_EXPECT_FALSE(test, e->rm->nr_objects || e->rm->nr_sessions);

	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	b = client(test, e);
	before = e->f->commands;
	k = create_primary(test, e, b);
	t = start_session(test, e, b);
	KUNIT_EXPECT_EQ(test, sign(e, b, k, t, 1), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands - before, 3);
	KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, 1);

	/* key[0] was saved before the Reset: the TPM refuses it now */
	KUNIT_EXPECT_EQ(test, sign(e, a, key[0], 0, 0), RM_LOST_H0);
	KUNIT_EXPECT_EQ(test, sign(e, a, key[3], 0, 0), RM_LOST_H0);
	KUNIT_EXPECT_EQ(test, sign(e, a, key[1], s, 1), RM_LOST_S0);
	KUNIT_EXPECT_EQ(test, flush(e, a, s), 0);
	KUNIT_EXPECT_EQ(test, flush(e, a, key[0]), 0);
	KUNIT_EXPECT_EQ(test, sign(e, b, k, t, 1), 0);

	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * Shutdown(STATE) through /dev/tpmN finds everything saved, so neither a
 * TPM Restart nor a Resume after the _TPM_Init loses anything; before the
 * Startup, what needs loading is refused without being given up.
 */
static void restart_and_resume_keep_everything(struct kunit *test)
{
	struct env *e = env_new(test, 3, 2);
	struct tpm2_rm_client *a = client(test, e);
	static const u16 types[] = { TPM2_SU_CLEAR, TPM2_SU_STATE };
	u32 key[4], s[3];
	unsigned int i, j, round;

	for (i = 0; i < 4; i++)
		key[i] = create_primary(test, e, a);
	for (i = 0; i < 3; i++)
		s[i] = start_session(test, e, a);

	for (round = 0; round < ARRAY_SIZE(types); round++) {
		KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_SHUTDOWN, TPM2_SU_STATE), 0);
		fake_init(e->f);
		KUNIT_EXPECT_EQ(test, sign(e, a, key[0], s[0], 1), RM_INITIALIZE);
		KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, types[round]), 0);
		for (i = 0; i < 4; i++)
			for (j = 0; j < 3; j++)
				KUNIT_EXPECT_EQ(test, sign(e, a, key[i], s[j], 1), 0);
		KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, round + 1);
		KUNIT_EXPECT_EQ(test, e->rm->nr_live, 3);
	}
	tpm2_rm_client_free(a, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * Sessions saved before a TPM Reset, a client's and one handed off by a
 * client that closed, are gone: the resource manager asks the TPM once,
 * stops counting them, and a new client gets every session at once.
 */
static void reset_frees_session_accounting(struct kunit *test)
{
	struct env *e = env_new(test, 3, 2);
	struct tpm2_rm_client *a = client(test, e), *c = client(test, e), *b;
	u8 *blob = kunit_kzalloc(test, 64, GFP_KERNEL);
	u32 key, s, h, len, caps;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, blob);
	e->f->max_active = 4;
	key = create_primary(test, e, a);
	s = start_session(test, e, a);
	e->f->now += 2000;	/* a's claim on more sessions lapses */
	h = start_session(test, e, c);
	KUNIT_ASSERT_EQ(test, context_save(e, c, h, blob, &len), 0);
	tpm2_rm_client_free(c, true);		/* h is handed off */
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 2);

	fake_init(e->f);
	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	caps = e->f->by_cc[TPM2_CC_GET_CAPABILITY & 0x1FF];
	b = client(test, e);
	c = client(test, e);
	/* two each: a client may hold half of the TPM's sessions */
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	e->f->now += 2000;
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, try_session(e, c, &h), 0);
	KUNIT_EXPECT_EQ(test, e->f->by_cc[TPM2_CC_GET_CAPABILITY & 0x1FF] - caps,
			2);
	KUNIT_EXPECT_EQ(test, e->rm->nr_orphans, 0);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, s, 1), RM_LOST_S0);

	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	tpm2_rm_client_free(c, true);
	expect_empty(test, e);
	env_free(e);
}

/* The Startup at probe, before any client command, costs nothing. */
static void startup_at_probe_costs_nothing(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e);
	unsigned int before;

	fake_init(e->f);
	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	/* a second Startup is refused and means nothing */
	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR),
			TPM2_RC_INITIALIZE);
	create_primary(test, e, a);
	before = e->f->commands;
	KUNIT_EXPECT_EQ(test, sign(e, a, 0x80000000, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, e->f->commands - before, 1);
	KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, 0);
	tpm2_rm_client_free(a, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * A ContextLoad that fails with a format-zero code (the TPM in failure
 * mode, or an answer made up by a transport whose TPM went away) passes
 * that code on and condemns nothing; a format-one code (integrity) does.
 */
static void failed_load_is_not_lost(struct kunit *test)
{
	struct env *e = env_new(test, 1, 3);
	struct tpm2_rm_client *a = client(test, e);
	u32 k0, k1;

	k0 = create_primary(test, e, a);
	k1 = create_primary(test, e, a);	/* k0 is evicted */
	e->f->fail_cc = TPM2_CC_CONTEXT_LOAD;
	e->f->fail_rc = 0x101;			/* TPM_RC_FAILURE */
	KUNIT_EXPECT_EQ(test, sign(e, a, k0, 0, 0), TPM2_RM_RC(0x101));
	e->f->fail_cc = TPM2_CC_CONTEXT_LOAD;
	e->f->fail_rc = 0x009;			/* TPM 1.2 TPM_FAIL, from qemu */
	KUNIT_EXPECT_EQ(test, sign(e, a, k0, 0, 0), TPM2_RM_RC(0x009));
	KUNIT_EXPECT_EQ(test, sign(e, a, k0, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, sign(e, a, k1, 0, 0), 0);
	e->f->fail_cc = TPM2_CC_CONTEXT_LOAD;
	e->f->fail_rc = 0x1DF;			/* TPM_RC_INTEGRITY */
	KUNIT_EXPECT_EQ(test, sign(e, a, k0, 0, 0), RM_LOST_H0);
	KUNIT_EXPECT_EQ(test, sign(e, a, k0, 0, 0), RM_LOST_H0);
	tpm2_rm_client_free(a, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * The TPM is reset and started with nothing reaching the kernel between:
 * when it hands a new client the handle an old client's key had, the old
 * key is lost, not shared.
 */
static void unseen_reset_never_maps_onto_another(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b;
	u32 ka, kb;

	ka = create_primary(test, e, a);
	KUNIT_ASSERT_EQ(test, sign(e, a, ka, 0, 0), 0);
	fake_init(e->f);
	/* the resource manager is not shown this one */
	KUNIT_ASSERT_EQ(test, send_su(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	b = client(test, e);
	kb = create_primary(test, e, b);
	KUNIT_EXPECT_EQ(test, sign(e, a, ka, 0, 0), RM_LOST_H0);
	KUNIT_EXPECT_EQ(test, sign(e, b, kb, 0, 0), 0);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * The TPM is reset and started with nothing reaching the kernel between,
 * while a client holds sessions.  The first session saved afterwards has
 * a sequence below those seen before, which only a TPM Reset makes: the
 * resource manager asks the TPM which sessions exist and forgets the
 * others, rather than count them against the TPM's limit and refresh
 * them at every eviction.
 */
static void unseen_reset_found_by_sequence(struct kunit *test)
{
	struct env *e = env_new(test, 3, 2);
	struct tpm2_rm_client *a = client(test, e), *b;
	u32 key, s[3], t[3];
	unsigned int i;

	e->f->gap = 16;
	key = create_primary(test, e, a);
	for (i = 0; i < 3; i++)
		s[i] = start_session(test, e, a);
	for (i = 0; i < 6; i++)
		KUNIT_ASSERT_EQ(test, sign(e, a, key, s[i % 3], 1), 0);
	KUNIT_ASSERT_EQ(test, e->rm->nr_live, 3);
	fake_init(e->f);
	/* the resource manager is not shown this one */
	KUNIT_ASSERT_EQ(test, send_su(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	b = client(test, e);
	key = create_primary(test, e, b);
	for (i = 0; i < 3; i++)
		t[i] = start_session(test, e, b);
	KUNIT_EXPECT_EQ(test, sign(e, b, key, t[0], 1), 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 3);
	KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, 1);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, sign(e, b, key, t[i], 1), 0);
	KUNIT_EXPECT_EQ(test, a->nr_sessions, 0);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	expect_empty(test, e);
	env_free(e);
}

/* The TPM cannot be asked which sessions survived: ask again later. */
static void reconcile_is_retried(struct kunit *test)
{
	struct env *e = env_new(test, 3, 2);
	struct tpm2_rm_client *a = client(test, e), *b;
	u32 key, s, h;

	key = create_primary(test, e, a);
	h = start_session(test, e, a);
	s = start_session(test, e, a);
	/* b's session will not get the handle value of a's */
	KUNIT_ASSERT_EQ(test, flush(e, a, h), 0);
	fake_init(e->f);
	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	e->f->fail_cc = TPM2_CC_GET_CAPABILITY;		/* -EIO, once */
	b = client(test, e);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 2);	/* a's is not known dead */
	KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, 0);
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_GET_RANDOM);
	put_unaligned_be16(8, e->buf + TPM_HEADER_SIZE);
	KUNIT_EXPECT_EQ(test, run(e, b, TPM_HEADER_SIZE + 2), 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_live, 1);
	KUNIT_EXPECT_EQ(test, e->rm->stats.tpm_resets, 1);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, s, 1), RM_LOST_S0);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	expect_empty(test, e);
	env_free(e);
}

/*
 * After a TPM Reset every session of a client is a tombstone, and the TPM
 * hands their handle values out first: a new session steps over all of
 * them, more than the TPM has session slots.
 */
static void new_session_after_reset(struct kunit *test)
{
	struct env *e = env_new(test, 3, 2);
	struct tpm2_rm_client *a = client(test, e);
	u32 s[3], h, key;
	unsigned int i;

	key = create_primary(test, e, a);
	for (i = 0; i < 3; i++)
		s[i] = start_session(test, e, a);
	fake_init(e->f);
	KUNIT_ASSERT_EQ(test, raw(e, TPM2_CC_STARTUP, TPM2_SU_CLEAR), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, a, &h), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_NE(test, h, s[i]);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, s[0], 1), RM_LOST_S0);
	tpm2_rm_client_free(a, true);
	expect_empty(test, e);
	env_free(e);
}

static struct kunit_case tpm2_rm_reset_cases[] = {
	KUNIT_CASE(new_session_after_reset),
	KUNIT_CASE(unseen_reset_never_maps_onto_another),
	KUNIT_CASE(reconcile_is_retried),
	KUNIT_CASE(unseen_reset_found_by_sequence),
	KUNIT_CASE(failed_load_is_not_lost),
	KUNIT_CASE(reset_loses_what_it_must),
	KUNIT_CASE(restart_and_resume_keep_everything),
	KUNIT_CASE(reset_frees_session_accounting),
	KUNIT_CASE(startup_at_probe_costs_nothing),
	{}
};

static struct kunit_suite tpm2_rm_reset_suite = {
	.name = "tpm2_rm_reset",
	.test_cases = tpm2_rm_reset_cases,
};

kunit_test_suites(&tpm2_rm_reset_suite);
