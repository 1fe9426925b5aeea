// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the TPM 2.0 resource manager's residency decisions and
 * isolation, against the fake TPM of tpm2-rm-fake.h.
 */
#include <kunit/static_stub.h>
#include "tpm2-rm-fake.h"
#include "tpm2-rm-io.h"

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
	unsigned int i;
	u32 list[8];
	bool more;

	for (i = 0; i < 5; i++)
		create_primary(test, e, c);
	KUNIT_EXPECT_EQ(test, cap_handles(e, c, 0x80000000, 2, list, &more), 2);
	KUNIT_EXPECT_TRUE(test, more);
	KUNIT_EXPECT_LT(test, list[0], list[1]);
	KUNIT_EXPECT_EQ(test, cap_handles(e, c, list[1] + 1, 8, list, &more), 3);
	KUNIT_EXPECT_FALSE(test, more);
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/*
 * GetCapability(TPM_CAP_HANDLES) of objects or sessions never reaches the
 * TPM, which would list every client's: with trailing bytes it is
 * refused, and with a session too, since an answer made up by the
 * resource manager cannot carry the session's response.  The context
 * commands allow no session at all; one there (another client's, here)
 * is refused before anything reaches the TPM.
 */
static void cap_handles_malformed(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	unsigned int before;
	u32 s, sa;

	sa = start_session(test, e, a);
	s = start_session(test, e, b);
	before = e->f->commands;
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_GET_CAPABILITY);
	put_unaligned_be32(TPM2_CAP_HANDLES, e->buf + 10);
	put_unaligned_be32(0x02000000, e->buf + 14);
	put_unaligned_be32(8, e->buf + 18);
	e->buf[22] = 0;
	KUNIT_EXPECT_EQ(test, run(e, b, 23), TPM2_RM_RC(TPM2_RC_SIZE));

	hdr(e, TPM2_ST_SESSIONS, TPM2_CC_GET_CAPABILITY);
	put_auth(e->buf + 10, s, 0x81, NULL, 0);	/* continue, audit */
	put_unaligned_be32(TPM2_CAP_HANDLES, e->buf + 23);
	put_unaligned_be32(0x80000000, e->buf + 27);
	put_unaligned_be32(8, e->buf + 31);
	KUNIT_EXPECT_EQ(test, run(e, b, 35),
			TPM2_RM_RC(TPM2_RC_AUTH_CONTEXT));
	KUNIT_EXPECT_EQ(test, e->f->commands, before);

	/* nor do FlushContext, ContextSave or ContextLoad carry one */
	hdr(e, TPM2_ST_SESSIONS, TPM2_CC_FLUSH_CONTEXT);
	put_unaligned_be32(s, e->buf + 10);
	KUNIT_EXPECT_EQ(test, run(e, b, 14 + put_auth(e->buf + 14, sa, 0,
						      NULL, 0)),
			TPM2_RM_RC(TPM2_RC_AUTH_CONTEXT));
	KUNIT_EXPECT_EQ(test, e->f->commands, before);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_LOADED), 2);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	env_free(e);
}

/*
 * A client at rm_max_client_contexts is told so by a code of its own
 * (RM|TPM_RC_OBJECT_HANDLES, for a session RM|TPM_RC_SESSION_HANDLES),
 * not the TPM's OBJECT_MEMORY, and what the TPM created is flushed.
 */
static void context_bound_is_told(struct kunit *test)
{
	unsigned int bound = tpm2_rm_max_client_contexts;
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 h;

	tpm2_rm_max_client_contexts = 2;
	create_primary(test, e, c);
	create_primary(test, e, c);
	hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CREATE_PRIMARY);
	put_unaligned_be32(0x40000001, e->buf + 10);
	KUNIT_EXPECT_EQ(test, run(e, c, 14),
			TPM2_RM_RC(TPM2_RC_OBJECT_HANDLES));
	KUNIT_EXPECT_EQ(test, try_session(e, c, &h),
			TPM2_RM_RC(TPM2_RC_SESSION_HANDLES));
	tpm2_rm_max_client_contexts = bound;
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 2);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	tpm2_rm_client_free(c, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
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

/*
 * The kernel's ContextLoad of an object (its null key) makes room for an
 * object only; one of a session for a session only.
 */
static void kernel_load_takes_one_kind(struct kunit *test)
{
	struct env *e = env_new(test, 2, 2);
	struct tpm2_rm_client *c = client(test, e);
	u8 cmd[22] = { };

	create_primary(test, e, c);
	create_primary(test, e, c);
	start_session(test, e, c);
	start_session(test, e, c);
	put_unaligned_be16(TPM2_ST_NO_SESSIONS, cmd);
	put_unaligned_be32(sizeof(cmd), cmd + 2);
	put_unaligned_be32(TPM2_CC_CONTEXT_LOAD, cmd + 6);
	/* TPMS_CONTEXT: sequence, savedHandle, ... */
	put_unaligned_be32(0x80000002, cmd + 18);
	tpm2_rm_foreign_room(e->rm, cmd, sizeof(cmd));
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 1);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_LOADED), 2);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_SAVED), 0);
	put_unaligned_be32(0x02000000, cmd + 18);
	tpm2_rm_foreign_room(e->rm, cmd, sizeof(cmd));
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 1);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_LOADED), 1);
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

/*
 * Before suspend or a /dev/tpmN command everything is evicted; what
 * cannot be saved is marked lost, never left mapped to a TPM handle
 * that may mean something else afterwards, and flushed: the TPM keeps
 * no slot of it.
 */
static void evict_all_goes_on_after_errors(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 k1 = create_primary(test, e, c);
	u32 k2 = create_primary(test, e, c);
	u32 s = start_session(test, e, c);

	e->f->fail_cc = TPM2_CC_CONTEXT_SAVE;	/* k1's save fails */
	e->f->fail_rc = TPM2_RC_FAILURE;
	KUNIT_EXPECT_EQ(test, tpm2_rm_evict_all(e->rm), TPM2_RC_FAILURE);
	KUNIT_EXPECT_EQ(test, e->rm->nr_objects, 0);
	KUNIT_EXPECT_EQ(test, e->rm->nr_sessions, 0);
	/* and k1 is not left in a slot nobody's books have */
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sign(e, c, k1, 0, 0),
			TPM2_RM_RC(TPM2_RC_REFERENCE_H0));
	KUNIT_EXPECT_EQ(test, sign(e, c, k2, s, 1), 0);
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/*
 * A FlushContext the TPM keeps refusing leaves a context in a slot that
 * no client's books have: it is flushed again at the next entry point,
 * before anything else is sent, and nothing more is sent once it is.
 */
static void failed_flush_is_retried(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *a = client(test, e), *b;
	unsigned int before;

	create_primary(test, e, a);
	start_session(test, e, a);
	e->f->fail_cc = TPM2_CC_FLUSH_CONTEXT;
	e->f->fail_rc = TPM2_RC_RETRY;
	e->f->fail_more = 3;	/* both flushes of each of two contexts */
	tpm2_rm_client_free(a, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 1);
	KUNIT_EXPECT_EQ(test, e->rm->nr_unflushed, 2);

	b = client(test, e);
	before = e->f->by_cc[TPM2_CC_FLUSH_CONTEXT & 0x1FF];
	create_primary(test, e, b);
	KUNIT_EXPECT_EQ(test, e->f->by_cc[TPM2_CC_FLUSH_CONTEXT & 0x1FF],
			before + 2);
	KUNIT_EXPECT_EQ(test, e->rm->nr_unflushed, 0);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 1);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	before = e->f->commands;
	create_primary(test, e, b);
	KUNIT_EXPECT_EQ(test, e->f->commands, before + 1);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

static void *no_memory(const void *src, size_t len)
{
	return NULL;
}

/* Sessions the TPM holds saved that the resource manager has no copy of. */
static unsigned int saved_without_copy(struct env *e)
{
	struct tpm2_rm_client *c;
	struct tpm2_rm_ctx *ctx;
	unsigned int n = sessions_in(e->f, S_SAVED);

	list_for_each_entry(c, &e->rm->clients, node)
		list_for_each_entry(ctx, &c->ctxs, node)
			if (ctx->kind == TPM2_RM_SESSION && !ctx->resident &&
			    !ctx->revoked && ctx->blob_valid)
				n--;
	list_for_each_entry(ctx, &e->rm->orphans, node)
		n--;
	return n;
}

/*
 * A session saved in the TPM that the resource manager keeps no copy of
 * could never be refreshed, and once the context gap reached it every
 * session save on the chip would fail.  When the copy cannot be made,
 * the save is undone: the client's own ContextSave as well as an
 * eviction; either client is told RM|TPM_RC_MEMORY, not an errno.
 */
static void failed_copy_leaves_nothing_saved(struct kunit *test)
{
	struct env *e = env_new(test, 3, 1);
	struct tpm2_rm_client *a = client(test, e), *b = client(test, e);
	u32 key = create_primary(test, e, a), s = start_session(test, e, a);
	u32 h, len;
	u8 blob[64];

	kunit_activate_static_stub(test, tpm2_rm_dup, no_memory);
	KUNIT_EXPECT_EQ(test, context_save(e, a, s, blob, &len),
			TPM2_RM_RC(TPM2_RC_MEMORY));
	KUNIT_EXPECT_EQ(test, saved_without_copy(e), 0);
	/* b's session needs a's slot: a's cannot be saved without a copy */
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h),
			TPM2_RM_RC(TPM2_RC_MEMORY));
	KUNIT_EXPECT_EQ(test, saved_without_copy(e), 0);
	kunit_deactivate_static_stub(test, tpm2_rm_dup);

	KUNIT_EXPECT_EQ(test, sign(e, a, key, s, 1), 0);
	KUNIT_EXPECT_EQ(test, try_session(e, b, &h), 0);
	KUNIT_EXPECT_EQ(test, sign(e, a, key, s, 1), 0);
	KUNIT_EXPECT_EQ(test, saved_without_copy(e), 0);
	tpm2_rm_client_free(a, true);
	tpm2_rm_client_free(b, true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	KUNIT_EXPECT_EQ(test, sessions_in(e->f, S_FREE), FAKE_MAX_SESSIONS);
	env_free(e);
}

/*
 * A workload touching every path that sends commands of its own: two
 * clients with more keys and sessions than the TPM holds, signing,
 * saving and loading a session, flushing, closing.  Failures are
 * expected when a command is made to fail, so nothing is asserted.
 */
static void busy_clients(struct kunit *test, struct env *e)
{
	struct tpm2_rm_client *c[2];
	u32 key[2][3], s[2][2], h, len;
	unsigned int i, j;
	u8 blob[64];

	for (i = 0; i < 2; i++) {
		c[i] = client(test, e);
		for (j = 0; j < 3; j++) {
			hdr(e, TPM2_ST_NO_SESSIONS, TPM2_CC_CREATE_PRIMARY);
			put_unaligned_be32(0x40000001, e->buf + 10);
			key[i][j] = run(e, c[i], 14) ? 0 : get_unaligned_be32(e->buf + 10);
		}
		for (j = 0; j < 2; j++)
			if (try_session(e, c[i], &s[i][j]))
				s[i][j] = 0;
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			sign(e, c[i], key[i][j], s[i][j % 2], 1);
	if (s[0][0] && !context_save(e, c[0], s[0][0], blob, &len))
		context_load(e, c[0], blob, len, &h);
	flush(e, c[1], key[1][0]);
	flush(e, c[1], s[1][1]);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			sign(e, c[i], key[i][j], s[i][0], 1);
	tpm2_rm_client_free(c[0], true);
	tpm2_rm_client_free(c[1], true);
}

/*
 * Make each command the resource manager sends fail in turn, with a
 * transport error and with TPM errors: its books stay balanced, nothing
 * of a closed client stays in the TPM, not even when the TPM refused the
 * very FlushContext meant to remove it (unless it said there was no such
 * context), and nothing leaks (kmemleak).
 */
static void every_command_fails_once(struct kunit *test)
{
	static const u32 how[] = { 0, TPM2_RC_FAILURE, TPM2_RC_OBJECT_MEMORY,
				   TPM2_RC_SESSION_MEMORY, 0x1CB };
	unsigned int total, k, i, left;
	struct env *e;

	e = env_new(test, 2, 1);
	busy_clients(test, e);
	total = e->f->commands;
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);

	for (i = 0; i < ARRAY_SIZE(how); i++) {
		for (k = 1; k <= total; k++) {
			e = env_new(test, 2, 1);
			e->f->fail_nth = k;
			e->f->fail_rc = how[i];
			busy_clients(test, e);
			KUNIT_EXPECT_EQ(test, e->rm->nr_objects, 0);
			KUNIT_EXPECT_EQ(test, e->rm->nr_sessions, 0);
			KUNIT_EXPECT_EQ(test, e->rm->nr_live, e->rm->nr_orphans);
			left = loaded_objects(e->f) +
			       FAKE_MAX_SESSIONS - sessions_in(e->f, S_FREE) -
			       e->rm->nr_orphans;
			/* unless the TPM lied: "no such handle" to a flush */
			KUNIT_EXPECT_LE_MSG(test, left,
					    how[i] == 0x1CB &&
					    e->f->failed_cc ==
					    TPM2_CC_FLUSH_CONTEXT,
					    "command %u failing with %#x", k,
					    how[i]);
			env_free(e);
		}
	}
}

/*
 * The resource manager keeps a copy of each command for retries; it may
 * hold passwords (an authorization area) and sensitive data (Create,
 * Import).  Nothing of it stays once the command is over, whether it
 * ran, was refused, or waits.
 */
static void command_copy_is_zeroed(struct kunit *test)
{
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c = client(test, e);
	u32 key = create_primary(test, e, c);

	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(e->rm->copy, 0, TPM_BUFSIZE),
			    NULL);
	hdr(e, TPM2_ST_SESSIONS, CC_SIGN);
	put_unaligned_be32(key, e->buf + 10);
	KUNIT_EXPECT_EQ(test, run(e, c, 14 + put_auth(e->buf + 14, TPM2_RS_PW,
						      0, "pass", 4)), 0);
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(e->rm->copy, 0, TPM_BUFSIZE),
			    NULL);
	tpm2_rm_client_free(c, true);
	env_free(e);
}

/*
 * What the resource manager's own code costs per client command, the
 * fake TPM's time taken out: a TPM command takes milliseconds, so this
 * must stay far below one.  Steady state (everything resident), then 8
 * clients taking turns on a 3+3 TPM (each command an eviction and a
 * load of an object and of a session).  The figures are reported; the
 * bound asserted is the time of the fastest TPM command (1 ms), loose
 * enough for a debug kernel (KASAN, lockdep) on an emulated CPU on a
 * busy machine, where the figures are many times a plain kernel's.
 */
static void command_cost(struct kunit *test)
{
	enum { ROUNDS = 2000, TURNS = 8 };
	struct env *e = env_new(test, 3, 3);
	struct tpm2_rm_client *c[TURNS];
	u32 key[TURNS], s[TURNS];
	unsigned int i, cmds;
	u64 t0, fake0, steady, turns;

	for (i = 0; i < TURNS; i++) {
		c[i] = client(test, e);
		key[i] = create_primary(test, e, c[i]);
		s[i] = start_session(test, e, c[i]);
		/* done starting sessions: the next client needs no wait */
		KUNIT_ASSERT_EQ(test, sign(e, c[i], key[i], s[i], 1), 0);
	}

	fake0 = e->f->ns;
	t0 = ktime_get_ns();
	for (i = 0; i < ROUNDS; i++)
		KUNIT_ASSERT_EQ(test, sign(e, c[0], key[0], s[0], 1), 0);
	steady = (ktime_get_ns() - t0 - (e->f->ns - fake0)) / ROUNDS;

	cmds = e->f->commands;
	fake0 = e->f->ns;
	t0 = ktime_get_ns();
	for (i = 0; i < ROUNDS; i++)
		KUNIT_ASSERT_EQ(test, sign(e, c[i % TURNS], key[i % TURNS],
					   s[i % TURNS], 1), 0);
	turns = (ktime_get_ns() - t0 - (e->f->ns - fake0)) / ROUNDS;

	kunit_info(test, "%llu ns per command resident, %llu ns taking turns (%u.%02u TPM commands each)\n",
		   steady, turns, (e->f->commands - cmds) / ROUNDS,
		   (e->f->commands - cmds) % ROUNDS * 100 / ROUNDS);
	KUNIT_EXPECT_LT(test, steady, NSEC_PER_MSEC);
	KUNIT_EXPECT_LT(test, turns, NSEC_PER_MSEC);
	for (i = 0; i < TURNS; i++)
		tpm2_rm_client_free(c[i], true);
	KUNIT_EXPECT_EQ(test, loaded_objects(e->f), 0);
	env_free(e);
}

static struct kunit_case tpm2_rm_core_cases[] = {
	KUNIT_CASE(steady_state_one_command),
	KUNIT_CASE(more_than_the_tpm_holds),
	KUNIT_CASE(lru_across_clients),
	KUNIT_CASE(isolation),
	KUNIT_CASE(cap_handles_paging),
	KUNIT_CASE(cap_handles_malformed),
	KUNIT_CASE(context_bound_is_told),
	KUNIT_CASE(flush_evicted_is_free),
	KUNIT_CASE(session_ends_with_command),
	KUNIT_CASE(object_memory_is_retried),
	KUNIT_CASE(failed_eviction_is_clean),
	KUNIT_CASE(lost_context_is_reported),
	KUNIT_CASE(room_for_kernel_callers),
	KUNIT_CASE(kernel_load_takes_one_kind),
	KUNIT_CASE(close_flushes_everything),
	KUNIT_CASE(evict_all_goes_on_after_errors),
	KUNIT_CASE(failed_flush_is_retried),
	KUNIT_CASE(failed_copy_leaves_nothing_saved),
	KUNIT_CASE_SLOW(every_command_fails_once),
	KUNIT_CASE(command_copy_is_zeroed),
	KUNIT_CASE(command_cost),
	{}
};

static struct kunit_suite tpm2_rm_core_suite = {
	.name = "tpm2_rm_core",
	.test_cases = tpm2_rm_core_cases,
};

kunit_test_suites(&tpm2_rm_core_suite);
