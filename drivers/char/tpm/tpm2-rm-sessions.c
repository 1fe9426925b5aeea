// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: sessions, the scarcest thing a TPM has.
 *
 * A TPM can have only TPM_PT_ACTIVE_SESSIONS_MAX sessions in existence
 * (64 on most chips), loaded or saved.  When all exist, StartAuthSession
 * fails with SESSION_HANDLES and only ending a session helps.  This file
 * decides who gets the next session, and whose session ends.
 *
 * Accounting.  Every session the resource manager knows counts in
 * rm->nr_live: its clients' and those handed off by clients that closed
 * ("orphans", kept so that another process can ContextLoad them).  Each
 * has an owner, a start time, its last use and, while saved, the
 * sequence number of its saved context.  One session is kept for the
 * kernel's own HMAC session (rm->kernel_reserve), which lives for one
 * kernel command and cannot wait; should the kernel find the TPM full
 * anyway (sessions opened through /dev/tpmN), a client's session is
 * revoked for it (tpm2_rm_foreign_retry_rc()).
 *
 * Admission (tpm2_rm_admit()).  StartAuthSession waits, with the chip
 * released, until a session can be had:
 *  - Waiters are served in order of arrival, except that clients already
 *    holding sessions go first: they are the closest to finishing.
 *  - A client's first session claims rm_session_claim sessions (3, the
 *    most one TPM command can use).  While the client keeps starting
 *    sessions, the rest of its claim is kept for it, so clients arriving
 *    at once are admitted a few at a time and finish, rather than each
 *    getting one session and all waiting for a second (hold and wait).
 *    A claim lapses once the client sends another command, or after it
 *    has been idle for a second.
 *  - Handed-off sessions are reclaimed first: once older than
 *    rm_orphan_ms, and at any age when someone waits.
 *  - If every client holding sessions waits for more, none can progress:
 *    the command of the youngest holder fails, not everybody's.
 *  - After rm_session_wait_ms, the least recently used idle session of
 *    the client furthest above its fair share (the TPM's sessions divided
 *    by the clients holding or wanting one) is ended and the waiter takes
 *    its place.  A session a command is using is never ended, nor one of
 *    a client within its share; if no client is above its share, the
 *    command fails.
 *  - Per client (rm_client_sessions) and per user (rm_user_sessions, not
 *    applied to root) sessions are bounded; a client at its own bound is
 *    refused at once, one whose user is at the bound waits.
 * A command that gets no session is answered SESSION_HANDLES, one whose
 * wait a signal ended CANCELED, both in the resource-manager layer.
 * What the client held is untouched either way.
 *
 * Revocation without ABA.  A session ended for another client stays in
 * its owner's table, marked revoked.  The owner's next command naming it
 * is refused with REFERENCE_S0 + n (REFERENCE_H0 + n in the handle area)
 * before anything reaches the TPM, so no wrong-password failure, no
 * dictionary-attack count and no burnt PIN retry can follow.  The TPM may
 * hand the handle value to another client, which the owner cannot reach
 * (handles are looked up in the owner's table); if it hands it to the
 * owner itself, tpm2-rm-core.c asks the TPM for another.  The entry goes
 * when the owner flushes the handle or closes.
 *
 * Context gap.  The TPM numbers saved session contexts and refuses to
 * save a session once the oldest saved one is TPM_PT_CONTEXT_GAP_MAX
 * saves behind (CONTEXT_GAP).  Before each session save, if the gap to
 * the oldest saved session the resource manager holds a context of is
 * within a sixteenth of the limit, that session is loaded and saved again
 * (regap).  A session a client saved itself is refreshed the same way;
 * when the client loads the context it holds, the resource manager loads
 * the refreshed one in its place (tpm2_rm_substitute_blob()).  A
 * CONTEXT_GAP that happens anyway triggers a regap and a retry.
 *
 * Locking: the chip's tpm_mutex, see tpm2-rm.h.
 */
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"
#include <trace/events/tpm2_rm.h>

unsigned int tpm2_rm_session_wait_ms = 30000;
module_param_named(rm_session_wait_ms, tpm2_rm_session_wait_ms, uint, 0644);
MODULE_PARM_DESC(rm_session_wait_ms,
		 "How long StartAuthSession waits for a session before a fair-share eviction or failure");

unsigned int tpm2_rm_client_sessions;
module_param_named(rm_client_sessions, tpm2_rm_client_sessions, uint, 0644);
MODULE_PARM_DESC(rm_client_sessions,
		 "Sessions one /dev/tpmrm file may hold (0: half the TPM's)");

unsigned int tpm2_rm_user_sessions;
module_param_named(rm_user_sessions, tpm2_rm_user_sessions, uint, 0644);
MODULE_PARM_DESC(rm_user_sessions,
		 "Sessions the files of one user other than root may hold (0: three quarters of the TPM's)");

unsigned int tpm2_rm_session_claim = 3;
module_param_named(rm_session_claim, tpm2_rm_session_claim, uint, 0644);
MODULE_PARM_DESC(rm_session_claim,
		 "Sessions kept for a client that is starting sessions");

unsigned int tpm2_rm_orphan_ms = 120000;
module_param_named(rm_orphan_ms, tpm2_rm_orphan_ms, uint, 0644);
MODULE_PARM_DESC(rm_orphan_ms,
		 "How long a session saved by a client that closed is kept for hand-off");

/* A claim lapses when its client has been idle this long. */
#define TPM2_RM_CLAIM_IDLE_MS	1000
/* A SESSION_HANDLES we cannot explain is believed this long. */
#define TPM2_RM_FULL_MS		1000

/**
 * tpm2_rm_now() - the resource manager's clock
 * @rm:		resource manager
 *
 * Return: milliseconds, monotonic.
 */
u64 tpm2_rm_now(struct tpm2_rm *rm)
{
	if (rm->ops->now_ms)
		return rm->ops->now_ms(rm);
	return jiffies64_to_msecs(get_jiffies_64());
}

static void wake_client(struct tpm2_rm_client *c)
{
	WRITE_ONCE(c->wake_seq, c->wake_seq + 1);
	wake_up(&c->waitq);
}

static void wake_waiters(struct tpm2_rm *rm)
{
	struct tpm2_rm_client *c;

	list_for_each_entry(c, &rm->clients, node)
		if (c->wait_ticket)
			wake_client(c);
}

/* Sessions clients may have at once: the kernel's reserve left aside. */
static unsigned int for_clients(struct tpm2_rm *rm)
{
	if (!rm->max_active)
		return 0;
	return rm->max_active - min(rm->kernel_reserve, rm->max_active - 1);
}

/* ---- accounting ---- */

/**
 * tpm2_rm_session_born() - count a session that came into existence
 * @rm:		resource manager
 * @ctx:	the session, with its owner set (or NULL)
 */
void tpm2_rm_session_born(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_client *c = ctx->client;

	ctx->since = tpm2_rm_now(rm);
	rm->nr_live++;
	if (c && !c->nr_sessions++)
		c->hold_seq = ++rm->tickets;
}

/**
 * tpm2_rm_session_gone() - a session ended; waiters may proceed
 * @rm:		resource manager
 * @ctx:	the session
 */
void tpm2_rm_session_gone(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	rm->nr_live--;
	if (ctx->client)
		ctx->client->nr_sessions--;
	rm->tpm_full = false;
	wake_waiters(rm);
}

/**
 * tpm2_rm_reclaim_orphan() - end the oldest handed-off session
 * @rm:			resource manager
 * @expired_only:	only if older than rm_orphan_ms
 *
 * Return: true if one was ended.
 */
bool tpm2_rm_reclaim_orphan(struct tpm2_rm *rm, bool expired_only)
{
	struct tpm2_rm_ctx *old;

	old = list_first_entry_or_null(&rm->orphans, struct tpm2_rm_ctx, node);
	if (!old || (expired_only &&
		     tpm2_rm_now(rm) - old->since < tpm2_rm_orphan_ms))
		return false;
	tpm2_rm_flush(rm, old->vhandle);
	tpm2_rm_drop_ctx(rm, old);
	rm->stats.reclaimed++;
	return true;
}

/**
 * tpm2_rm_revoke() - end a client's session for someone else
 * @rm:		resource manager
 * @ctx:	a session, not pinned
 *
 * The entry stays in the owner's table as a tombstone (see above).
 */
void tpm2_rm_revoke(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	trace_tpm2_rm_revoke(ctx->client ? ctx->client->id : 0, ctx->vhandle,
			     rm->cur_client);
	tpm2_rm_flush(rm, ctx->vhandle);
	tpm2_rm_session_lost(rm, ctx);
	rm->stats.revoked++;
}

/**
 * tpm2_rm_session_lost() - a client's session no longer exists in the TPM
 * @rm:		resource manager
 * @ctx:	the session, not revoked
 *
 * The entry becomes a tombstone, as for a revoked session: the owner is
 * told when it next names the handle.
 */
void tpm2_rm_session_lost(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	tpm2_rm_clear_resident(rm, ctx);
	tpm2_rm_forget_blob(ctx);
	kfree(ctx->client_blob);
	ctx->client_blob = NULL;
	ctx->client_saved = false;
	tpm2_rm_session_gone(rm, ctx);
	ctx->revoked = true;
}

static bool revocable(const struct tpm2_rm_ctx *ctx)
{
	return ctx->kind == TPM2_RM_SESSION && !ctx->revoked &&
	       !ctx->pinned && !ctx->client_saved;
}

static struct tpm2_rm_ctx *lru_session(struct tpm2_rm_client *c)
{
	struct tpm2_rm_ctx *ctx, *best = NULL;

	list_for_each_entry(ctx, &c->ctxs, node)
		if (revocable(ctx) && (!best || ctx->last_use < best->last_use))
			best = ctx;
	return best;
}

/**
 * tpm2_rm_revoke_for() - end a session of whoever is furthest above its share
 * @rm:		resource manager
 * @c:		the client that needs a session, or NULL for the kernel
 *
 * For a client, only a session of another client holding more than its
 * fair share is ended.  The kernel's own commands cannot wait, so for
 * them the client holding the most gives one up if nobody is above its
 * share.
 *
 * Return: true if a session was ended.
 */
bool tpm2_rm_revoke_for(struct tpm2_rm *rm, struct tpm2_rm_client *c)
{
	struct tpm2_rm_client *o, *victim = NULL;
	unsigned int contenders = 0, share;
	struct tpm2_rm_ctx *ctx = NULL;

	list_for_each_entry(o, &rm->clients, node)
		if (o->nr_sessions || o->wait_ticket)
			contenders++;
	share = max(for_clients(rm) / max(contenders, 1u), 1u);
	list_for_each_entry(o, &rm->clients, node) {
		if (o == c || !lru_session(o))
			continue;
		if (c && o->nr_sessions <= share)
			continue;
		if (!victim || o->nr_sessions > victim->nr_sessions)
			victim = o;
	}
	if (victim)
		ctx = lru_session(victim);
	if (!ctx)
		return false;
	tpm2_rm_revoke(rm, ctx);
	return true;
}

/* ---- admission ---- */

static unsigned int client_limit(struct tpm2_rm *rm)
{
	return tpm2_rm_client_sessions ?: max(for_clients(rm) / 2, 1u);
}

static unsigned int user_limit(struct tpm2_rm *rm)
{
	return tpm2_rm_user_sessions ?: max(for_clients(rm) * 3 / 4, 1u);
}

static bool user_at_limit(struct tpm2_rm *rm, kuid_t uid)
{
	struct tpm2_rm_client *o;
	unsigned int n = 0;

	if (uid_eq(uid, GLOBAL_ROOT_UID))
		return false;
	list_for_each_entry(o, &rm->clients, node)
		if (uid_eq(o->uid, uid))
			n += o->nr_sessions;
	return n >= user_limit(rm);
}

static unsigned int claim_left(const struct tpm2_rm_client *c, u64 now)
{
	if (!c->acquiring || now - c->last_cmd >= TPM2_RM_CLAIM_IDLE_MS ||
	    c->nr_sessions >= tpm2_rm_session_claim)
		return 0;
	return tpm2_rm_session_claim - c->nr_sessions;
}

static unsigned int free_sessions(struct tpm2_rm *rm, u64 now)
{
	if (rm->tpm_full && now - rm->full_since < TPM2_RM_FULL_MS)
		return 0;
	return rm->nr_live < for_clients(rm) ? for_clients(rm) - rm->nr_live : 0;
}

/*
 * May @c start a session now, as far as numbers go?  A client that holds
 * sessions needs one free.  A new one, while others are starting
 * sessions, needs room for its own claim beside theirs.  @claims is the
 * sum of all claims.
 */
static bool can_have(struct tpm2_rm_client *c, unsigned int free,
		     unsigned int claims, u64 now)
{
	unsigned int others = claims - claim_left(c, now);

	if (!free || user_at_limit(c->rm, c->uid))
		return false;
	if (c->nr_sessions || !others)
		return true;
	return free >= others + tpm2_rm_session_claim;
}

static bool goes_before(const struct tpm2_rm_client *a,
			const struct tpm2_rm_client *b)
{
	if (!a->nr_sessions != !b->nr_sessions)
		return a->nr_sessions;
	return a->wait_ticket < b->wait_ticket;
}

/* Every client holding sessions waits for more: the youngest of them. */
static struct tpm2_rm_client *deadlock_victim(struct tpm2_rm *rm)
{
	struct tpm2_rm_client *o, *young = NULL;

	list_for_each_entry(o, &rm->clients, node) {
		if (!o->nr_sessions)
			continue;
		if (!o->wait_ticket)
			return NULL;
		if (!young || o->hold_seq > young->hold_seq)
			young = o;
	}
	return young;
}

/* Would a waiter ahead of @c get a session now?  Also: would @c? */
static bool ahead_can_have(struct tpm2_rm_client *c, u64 now, bool *mine)
{
	struct tpm2_rm *rm = c->rm;
	unsigned int free = free_sessions(rm, now), claims = 0;
	struct tpm2_rm_client *o;

	list_for_each_entry(o, &rm->clients, node)
		claims += claim_left(o, now);
	*mine = can_have(c, free, claims, now);
	list_for_each_entry(o, &rm->clients, node)
		if (o != c && o->wait_ticket && goes_before(o, c) &&
		    can_have(o, free, claims, now))
			return true;
	return false;
}

static int admit_fail(struct tpm2_rm_client *c, u32 rc)
{
	c->rm->stats.wait_failed++;
	return rc;
}

/**
 * tpm2_rm_admit() - may @c start a session now?
 * @c:		client sending StartAuthSession
 *
 * The first call queues @c; tpm2_rm_admit_done() dequeues it when its
 * command is over.
 *
 * Return: 0 to go ahead; %TPM2_RM_WAIT to sleep up to @c->wait_ms (or
 * until woken) and ask again; or a response code to refuse the command
 * with (without the resource-manager layer).
 */
int tpm2_rm_admit(struct tpm2_rm_client *c)
{
	struct tpm2_rm *rm = c->rm;
	u64 now = tpm2_rm_now(rm), waited;
	bool mine, ahead;

	if (c->nr_sessions >= client_limit(rm))
		return TPM2_RC_SESSION_HANDLES;
	while (tpm2_rm_reclaim_orphan(rm, true))
		;
	if (!c->wait_ticket) {
		c->wait_ticket = ++rm->tickets;
		c->wait_since = now;
	}
	for (;;) {
		ahead = ahead_can_have(c, now, &mine);
		if (mine && !ahead)
			return 0;
		if (mine || ahead || !tpm2_rm_reclaim_orphan(rm, false))
			break;
	}
	if (ahead) {
		/* whoever goes first wakes the others when done */
		c->wait_ms = TPM2_RM_CLAIM_IDLE_MS;
		c->waited = true;
		return TPM2_RM_WAIT;
	}
	if (c->nr_sessions && deadlock_victim(rm) == c) {
		/* the others go on once this one gives up what it holds */
		wake_waiters(rm);
		return admit_fail(c, TPM2_RC_SESSION_HANDLES);
	}
	waited = now - c->wait_since;
	if (waited >= tpm2_rm_session_wait_ms) {
		if (tpm2_rm_revoke_for(rm, c))
			return 0;
		return admit_fail(c, TPM2_RC_SESSION_HANDLES);
	}
	waited = now - c->wait_since;
	c->wait_ms = tpm2_rm_session_wait_ms > waited ?
		     tpm2_rm_session_wait_ms - waited : 1;
	c->wait_ms = min(c->wait_ms, TPM2_RM_CLAIM_IDLE_MS);
	c->waited = true;
	return TPM2_RM_WAIT;
}

/**
 * tpm2_rm_admit_done() - @c's command is over: leave the queue
 * @c:		client
 * @rc:		how the command ended, for the trace
 */
void tpm2_rm_admit_done(struct tpm2_rm_client *c, u32 rc)
{
	struct tpm2_rm *rm = c->rm;
	u64 waited;

	if (!c->wait_ticket)
		return;
	if (c->waited) {
		waited = tpm2_rm_now(rm) - c->wait_since;
		rm->stats.waits++;
		rm->stats.wait_ms += waited;
		trace_tpm2_rm_wait(c->id, waited, rc);
	}
	c->wait_ticket = 0;
	c->waited = false;
	wake_waiters(rm);
}

/**
 * tpm2_rm_wait_cancel() - a signal ended @c's wait
 * @c:		client
 *
 * Return: the response code for its command, resource-manager layer
 * included.
 */
u32 tpm2_rm_wait_cancel(struct tpm2_rm_client *c)
{
	c->rm->stats.wait_failed++;
	tpm2_rm_admit_done(c, TPM2_RM_RC(TPM2_RC_CANCELED));
	return TPM2_RM_RC(TPM2_RC_CANCELED);
}

/* ---- context gap ---- */

/**
 * tpm2_rm_saw_save() - a session's context was just saved into @ctx->blob
 * @rm:		resource manager
 * @ctx:	the session
 */
void tpm2_rm_saw_save(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	ctx->seq = get_unaligned_be64(ctx->blob);
	rm->last_seq = max(rm->last_seq, ctx->seq);
}

static bool saved_here(const struct tpm2_rm_ctx *ctx)
{
	return ctx->kind == TPM2_RM_SESSION && ctx->blob && !ctx->resident &&
	       !ctx->revoked && !ctx->dead;
}

static struct tpm2_rm_ctx *oldest_saved(struct tpm2_rm *rm)
{
	struct tpm2_rm_ctx *ctx, *old = NULL;
	struct tpm2_rm_client *c;

	list_for_each_entry(c, &rm->clients, node)
		list_for_each_entry(ctx, &c->ctxs, node)
			if (saved_here(ctx) && (!old || ctx->seq < old->seq))
				old = ctx;
	list_for_each_entry(ctx, &rm->orphans, node)
		if (saved_here(ctx) && (!old || ctx->seq < old->seq))
			old = ctx;
	return old;
}

static bool gap_near(struct tpm2_rm *rm, u64 oldest)
{
	return rm->last_seq - oldest + max(rm->gap_max / 16, 2u) >= rm->gap_max;
}

/* Load a saved session and save it again: it becomes the newest. */
static int refresh(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	u64 old_seq;
	u32 handle;
	u16 len;
	u8 *blob;
	int rc;

	rc = tpm2_rm_make_room(rm, 0, 1);
	if (rc && rc != -ENOSPC)
		return rc;
	rc = tpm2_rm_load(rm, ctx->blob, ctx->blob_len, &handle);
	if (rc) {
		if (tpm2_rm_load_condemns(rc))
			ctx->dead = true;
		return rc;
	}
	rc = tpm2_rm_save(rm, handle, &blob, &len);
	if (rc) {
		/* a client's saved copy is stale now, and ours */
		tpm2_rm_forget_blob(ctx);
		kfree(ctx->client_blob);
		ctx->client_blob = NULL;
		ctx->client_saved = false;
		if (rc == -ENOMEM)	/* saved, but the copy is lost */
			ctx->dead = true;
		else
			tpm2_rm_set_resident(rm, ctx, handle);
		return rc;
	}
	if (ctx->client_saved && !ctx->client_blob) {
		ctx->client_blob = ctx->blob;
		ctx->client_blob_len = ctx->blob_len;
		ctx->blob = NULL;
	}
	kfree(ctx->blob);
	ctx->blob = blob;
	ctx->blob_len = len;
	ctx->blob_valid = true;
	old_seq = ctx->seq;
	tpm2_rm_saw_save(rm, ctx);
	trace_tpm2_rm_regap(ctx->client ? ctx->client->id : 0, ctx->vhandle,
			    old_seq, ctx->seq);
	rm->stats.regaps++;
	return 0;
}

/**
 * tpm2_rm_regap() - keep the oldest saved session within the context gap
 * @rm:		resource manager
 * @force:	refresh the oldest even if the gap looks fine (the TPM said
 *		CONTEXT_GAP)
 *
 * Return: 0, a TPM response code, or a negative errno.
 */
int tpm2_rm_regap(struct tpm2_rm *rm, bool force)
{
	struct tpm2_rm_ctx *old;
	unsigned int n = 0;
	int rc = 0;

	if (rm->regapping || !rm->gap_max)
		return 0;
	if (!force && !gap_near(rm, rm->oldest_hint))
		return 0;
	rm->regapping = true;
	while ((old = oldest_saved(rm)) && n++ <= rm->max_active) {
		rm->oldest_hint = old->seq;
		if (!force && !gap_near(rm, old->seq))
			break;
		rc = refresh(rm, old);
		if (rc)
			break;
		force = false;
	}
	if (!old)
		rm->oldest_hint = rm->last_seq;
	rm->regapping = false;
	return rc;
}

/**
 * tpm2_rm_substitute_blob() - a client loads a session context it saved
 * @rm:		resource manager
 * @body:	the TPMS_CONTEXT of its ContextLoad
 * @len:	its length
 * @room:	bytes available at @body
 * @new_len:	the length of what replaced it
 *
 * If the resource manager refreshed that session since (regap), the
 * client's context no longer loads; the refreshed one replaces it.  Only
 * the exact bytes the client was given match.
 *
 * Return: true if @body was replaced.
 */
bool tpm2_rm_substitute_blob(struct tpm2_rm *rm, u8 *body, u32 len,
			     u32 room, u32 *new_len)
{
	struct tpm2_rm_ctx *ctx, *hit = NULL;
	struct tpm2_rm_client *c;

	list_for_each_entry(c, &rm->clients, node)
		list_for_each_entry(ctx, &c->ctxs, node)
			if (ctx->client_blob && ctx->client_blob_len == len &&
			    !memcmp(ctx->client_blob, body, len))
				hit = ctx;
	list_for_each_entry(ctx, &rm->orphans, node)
		if (ctx->client_blob && ctx->client_blob_len == len &&
		    !memcmp(ctx->client_blob, body, len))
			hit = ctx;
	if (!hit || !hit->blob || hit->blob_len > room)
		return false;
	memcpy(body, hit->blob, hit->blob_len);
	*new_len = hit->blob_len;
	return true;
}
