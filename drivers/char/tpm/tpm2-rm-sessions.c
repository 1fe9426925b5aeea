// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: sessions, the scarcest thing a TPM has.
 *
 * A TPM can have only TPM_PT_ACTIVE_SESSIONS_MAX sessions in existence
 * (64 on most chips), loaded or saved.  When all exist, StartAuthSession
 * fails with SESSION_HANDLES and only ending a session helps.  This file
 * decides who gets the next session, and whose session ends.
 *
 * Threat model.  Clients (open /dev/tpmrmN files) do not trust each
 * other; one user may open many files in many processes.  What one
 * client, or one user, can do to the others, and the bound on it:
 *  - hold sessions: at most rm_client_sessions per file and
 *    rm_user_sessions per user but root, wherever a session is had
 *    (StartAuthSession, ContextLoad of a hand-off); its hand-offs count
 *    toward its user until someone loads them;
 *  - make others wait: a waiter is answered within rm_session_wait_ms of
 *    its turn; a claim lapses at the claimant's next other command or a
 *    second after its last session; each admission step costs
 *    O(log clients) under the chip lock, so a flood of waiters costs
 *    everybody else little;
 *  - take a session from another: only by the fair-share rule below,
 *    from a client above its share, never a session in use or one a
 *    client saved, never for a client whose user is at its bound;
 *  - reach another's session: never; a client names only entries of its
 *    own table, sessions by their index as the TPM knows them, and a
 *    revoked session's handle is refused to its owner (no ABA);
 *  - lose what it holds: only by its own commands, by the TPM, or by the
 *    rules here, and it is then told by a code before anything reaches
 *    the TPM.
 * Outside the model: root, to whom rm_user_sessions does not apply;
 * whoever may open /dev/tpmN, which has the whole TPM; the kernel's own
 * commands, which cannot wait and may have a session revoked for them.
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
 *    holding sessions go first: they are the closest to finishing.  Two
 *    FIFO queues (holders, others) make this exact: everyone in a queue
 *    needs the same thing, so only its head can be the next to go.
 *  - A client's first session claims rm_session_claim sessions (3, the
 *    most one TPM command can use).  While the client keeps starting
 *    sessions, the rest of its claim is kept for it, so clients arriving
 *    at once are admitted a few at a time and finish, rather than each
 *    getting one session and all waiting for a second (hold and wait).
 *    A claim lapses at the client's next command that is not a
 *    successful StartAuthSession (whatever it is, malformed included),
 *    or a second after its last session started.
 *  - Handed-off sessions are reclaimed first: once older than
 *    rm_orphan_ms, and when someone waits, once a quarter of
 *    rm_session_wait_ms old (the next process of a tpm2-tools pipeline
 *    loads its hand-off sooner, even on a loaded machine; ending it
 *    would fail the pipeline, while the waiter only waits).  The
 *    kernel's commands, which cannot wait, reclaim one at any age.  A
 *    ContextLoad of a hand-off that was ended is refused with
 *    RM|TPM_RC_HANDLE + P + 1, as the TPM would refuse it.
 *  - If every client holding sessions waits for more, none can progress:
 *    the command of the youngest holder fails, not everybody's.
 *  - After rm_session_wait_ms, the least recently used idle session of
 *    the client furthest above its fair share (the TPM's sessions divided
 *    by the clients holding or wanting one) is ended and the waiter takes
 *    its place.  A session a command is using is never ended, nor one of
 *    a client within its share, nor one a client saved; if no client is
 *    above its share, the command fails.  The waiter gets that answer at
 *    once when waiting cannot help: every session is held by its own
 *    process, which is single-threaded and blocked in write().
 *  - Per client (rm_client_sessions) and per user (rm_user_sessions, not
 *    applied to root) sessions are bounded, wherever a client gets one:
 *    StartAuthSession, and ContextLoad of a session it did not hold (a
 *    hand-off).  A hand-off counts toward its former owner's user until
 *    someone loads it.  A client at its own bound is refused at once.  A
 *    client whose user is at the bound waits in its user's queue for one
 *    of that user's sessions to end (its user's oldest hand-off is ended
 *    for it first); it takes nothing from anybody else, neither another
 *    user's hand-off nor, after the wait, anyone's session, and it does
 *    not count as waiting in the hold-and-wait test.
 * A command that gets no session is answered SESSION_HANDLES, one whose
 * wait a signal ended CANCELED, both in the resource-manager layer.
 * What the client held is untouched either way.
 *
 * Cost.  Every step above is O(1) or O(log clients) under the chip lock:
 * per-user and per-client counts are kept as sessions come and go, the
 * holders list gives the youngest holder, an rbtree ordered by sessions
 * held gives the revocation victim, claims lapse in order from a list,
 * and a freed session wakes only the one waiter it can serve (the head
 * of a queue), not everybody.
 *
 * Invariants, checked by the KUnit suite after every step of its
 * randomized schedules:
 *  - rm->nr_live equals the clients' sessions plus the orphans, and each
 *    user's count equals its clients' sessions plus its orphans;
 *  - no user other than root is above its bound, no client above its own;
 *  - rm->claims is the sum of the claims; rm->nr_waiting and
 *    rm->nr_waiting_holders count the queues.
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

/* Sessions clients may have at once: the kernel's reserve left aside. */
static unsigned int for_clients(struct tpm2_rm *rm)
{
	if (!rm->max_active)
		return 0;
	return rm->max_active - min(rm->kernel_reserve, rm->max_active - 1);
}

static unsigned int client_limit(struct tpm2_rm *rm)
{
	return tpm2_rm_client_sessions ?: max(for_clients(rm) / 2, 1u);
}

static unsigned int user_limit(struct tpm2_rm *rm)
{
	return tpm2_rm_user_sessions ?: max(for_clients(rm) * 3 / 4, 1u);
}

static bool user_at_limit(struct tpm2_rm *rm, struct tpm2_rm_user *u)
{
	return !uid_eq(u->uid, GLOBAL_ROOT_UID) &&
	       u->nr_sessions >= user_limit(rm);
}

static unsigned int free_sessions(struct tpm2_rm *rm, u64 now)
{
	if (rm->tpm_full && now - rm->full_since < TPM2_RM_FULL_MS)
		return 0;
	return rm->nr_live < for_clients(rm) ? for_clients(rm) - rm->nr_live : 0;
}

/* ---- users ---- */

/**
 * tpm2_rm_user_get() - the accounting of one user, created on first use
 * @rm:		resource manager
 * @uid:	the user
 *
 * Return: the user with a reference taken, or NULL.
 */
struct tpm2_rm_user *tpm2_rm_user_get(struct tpm2_rm *rm, kuid_t uid)
{
	struct tpm2_rm_user *u;

	hash_for_each_possible(rm->users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid)) {
			u->refs++;
			return u;
		}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return NULL;
	u->uid = uid;
	u->refs = 1;
	INIT_LIST_HEAD(&u->waiters);
	INIT_LIST_HEAD(&u->orphans);
	hash_add(rm->users, &u->node, __kuid_val(uid));
	return u;
}

/**
 * tpm2_rm_user_put() - drop a reference taken by tpm2_rm_user_get()
 * @rm:		resource manager
 * @u:		the user
 */
void tpm2_rm_user_put(struct tpm2_rm *rm, struct tpm2_rm_user *u)
{
	if (--u->refs)
		return;
	hash_del(&u->node);
	kfree(u);
}

/* ---- the order of holders ---- */

static bool rank_less(struct rb_node *a, const struct rb_node *b)
{
	const struct tpm2_rm_client *x, *y;

	x = rb_entry(a, struct tpm2_rm_client, rank_node);
	y = rb_entry(b, struct tpm2_rm_client, rank_node);
	if (x->nr_sessions != y->nr_sessions)
		return x->nr_sessions < y->nr_sessions;
	return x->id < y->id;
}

/*
 * @c's session counts changed from @was: keep the holders list, the
 * revocation order and the queue counts true.
 */
static void holder_changed(struct tpm2_rm_client *c, unsigned int was)
{
	struct tpm2_rm *rm = c->rm;

	if (!RB_EMPTY_NODE(&c->rank_node)) {
		rb_erase(&c->rank_node, &rm->ranked);
		RB_CLEAR_NODE(&c->rank_node);
	}
	if (c->nr_sessions > c->nr_saved)
		rb_add(&c->rank_node, &rm->ranked, rank_less);
	if (!was == !c->nr_sessions)
		return;
	if (c->nr_sessions) {
		list_add_tail(&c->hold_node, &rm->holders);
		rm->nr_holders++;
	} else {
		list_del_init(&c->hold_node);
		rm->nr_holders--;
	}
	if (c->queue == TPM2_RM_Q_HOLDERS)
		rm->nr_waiting_holders += c->nr_sessions ? 1 : -1;
	if (c->queue != TPM2_RM_Q_NONE)
		rm->nr_wanting += c->nr_sessions ? -1 : 1;
}

/* ---- claims ---- */

static void drop_claim(struct tpm2_rm_client *c)
{
	if (!c->claim)
		return;
	c->rm->claims -= c->claim;
	c->claim = 0;
	list_del_init(&c->claim_node);
}

static void expire_claims(struct tpm2_rm *rm, u64 now)
{
	struct tpm2_rm_client *c;

	while ((c = list_first_entry_or_null(&rm->claimants,
					     struct tpm2_rm_client,
					     claim_node)) &&
	       c->claim_until <= now)
		drop_claim(c);
}

/**
 * tpm2_rm_claim() - a command of @c is over: keep or drop its claim
 * @c:		client
 * @started:	the command was a StartAuthSession that got a session
 *
 * Only a successful StartAuthSession keeps a claim alive, for a second;
 * any other command, a failed or malformed one included, ends it.
 */
void tpm2_rm_claim(struct tpm2_rm_client *c, bool started)
{
	struct tpm2_rm *rm = c->rm;
	unsigned int want;

	drop_claim(c);
	want = tpm2_rm_session_claim;
	if (!started || c->nr_sessions >= want)
		return;
	c->claim = want - c->nr_sessions;
	c->claim_until = tpm2_rm_now(rm) + TPM2_RM_CLAIM_IDLE_MS;
	rm->claims += c->claim;
	list_add_tail(&c->claim_node, &rm->claimants);
}

/* ---- queues ---- */

static struct list_head *queue_list(struct tpm2_rm_client *c,
				    enum tpm2_rm_queue q)
{
	switch (q) {
	case TPM2_RM_Q_HOLDERS:
		return &c->rm->wait_holders;
	case TPM2_RM_Q_NEW:
		return &c->rm->wait_new;
	default:
		return &c->user->waiters;
	}
}

static void dequeue(struct tpm2_rm_client *c)
{
	struct tpm2_rm *rm = c->rm;

	if (c->queue == TPM2_RM_Q_NONE)
		return;
	if (c->queue == TPM2_RM_Q_HOLDERS && c->nr_sessions)
		rm->nr_waiting_holders--;
	if (!c->nr_sessions)
		rm->nr_wanting--;
	list_del_init(&c->wait_node);
	rm->nr_waiting--;
	c->queue = TPM2_RM_Q_NONE;
}

/* Put @c at the tail of queue @q, unless it is in that queue already. */
static void enqueue(struct tpm2_rm_client *c, enum tpm2_rm_queue q)
{
	struct tpm2_rm *rm = c->rm;

	if (c->queue == q)
		return;
	dequeue(c);
	c->queue = q;
	list_add_tail(&c->wait_node, queue_list(c, q));
	rm->nr_waiting++;
	if (q == TPM2_RM_Q_HOLDERS && c->nr_sessions)
		rm->nr_waiting_holders++;
	if (!c->nr_sessions)
		rm->nr_wanting++;
}

static struct tpm2_rm_client *queue_head(struct list_head *q)
{
	return list_first_entry_or_null(q, struct tpm2_rm_client, wait_node);
}

/* May the head of the queue of clients holding none go now? */
static bool new_may_go(struct tpm2_rm *rm, unsigned int free)
{
	if (!free || !list_empty(&rm->wait_holders))
		return false;
	return !rm->claims || free >= rm->claims + tpm2_rm_session_claim;
}

/*
 * Something changed: wake the one waiter that can now go, if any.  The
 * one woken wakes the next when it is done (tpm2_rm_admit_done()).
 */
static void wake_next(struct tpm2_rm *rm)
{
	unsigned int free = free_sessions(rm, tpm2_rm_now(rm));
	struct tpm2_rm_client *c;

	c = queue_head(&rm->wait_holders);
	if (!c && new_may_go(rm, free))
		c = queue_head(&rm->wait_new);
	if (c && free)
		wake_client(c);
}

static void wake_user(struct tpm2_rm *rm, struct tpm2_rm_user *u)
{
	struct tpm2_rm_client *c = queue_head(&u->waiters);

	if (c && !user_at_limit(rm, u))
		wake_client(c);
}

/* ---- accounting ---- */

/**
 * tpm2_rm_session_born() - count a session that came into existence
 * @rm:		resource manager
 * @ctx:	the session, with its owner set
 */
void tpm2_rm_session_born(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_client *c = ctx->client;

	ctx->since = tpm2_rm_now(rm);
	ctx->user = c->user;
	rm->nr_live++;
	c->user->nr_sessions++;
	c->nr_sessions++;
	holder_changed(c, c->nr_sessions - 1);
}

/**
 * tpm2_rm_session_gone() - a session ended; waiters may proceed
 * @rm:		resource manager
 * @ctx:	the session
 */
void tpm2_rm_session_gone(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_client *c = ctx->client;

	rm->nr_live--;
	ctx->user->nr_sessions--;
	if (c) {
		tpm2_rm_set_client_saved(ctx, false);
		c->nr_sessions--;
		holder_changed(c, c->nr_sessions + 1);
	}
	rm->tpm_full = false;
	wake_user(rm, ctx->user);
	wake_next(rm);
}

/**
 * tpm2_rm_set_client_saved() - a client's session was saved by the client,
 *	or no longer is
 * @ctx:	the session, owned by a client
 * @saved:	whether the client holds its only loadable context
 *
 * A session the client saved cannot be revoked (its context is the
 * client's), so it leaves the revocation order.
 */
void tpm2_rm_set_client_saved(struct tpm2_rm_ctx *ctx, bool saved)
{
	struct tpm2_rm_client *c = ctx->client;

	if (ctx->client_saved == saved)
		return;
	ctx->client_saved = saved;
	if (!c)
		return;
	c->nr_saved += saved ? 1 : -1;
	holder_changed(c, c->nr_sessions);
}

/**
 * tpm2_rm_orphan() - keep a session its closing owner saved, for hand-off
 * @rm:		resource manager
 * @ctx:	a session the owner saved itself
 *
 * It keeps counting toward its user until someone loads it or it is
 * reclaimed; it is kept, in memory only, as long as the TPM can spare it.
 */
void tpm2_rm_orphan(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	struct tpm2_rm_client *c = ctx->client;

	tpm2_rm_set_client_saved(ctx, false);
	list_move_tail(&ctx->node, &rm->orphans);
	c->nr_ctxs--;
	c->nr_sessions--;
	holder_changed(c, c->nr_sessions + 1);
	ctx->client = NULL;
	ctx->client_saved = true;
	ctx->since = tpm2_rm_now(rm);
	ctx->user->refs++;
	list_add_tail(&ctx->unode, &ctx->user->orphans);
	rm->nr_orphans++;
}

/* A hand-off this old may be ended for a waiting client (see the top). */
static unsigned int orphan_grace(void)
{
	return min(tpm2_rm_orphan_ms, tpm2_rm_session_wait_ms / 4);
}

static void end_orphan(struct tpm2_rm *rm, struct tpm2_rm_ctx *old)
{
	struct tpm2_rm_reclaimed *r;

	r = &rm->reclaimed[rm->next_reclaimed++ % TPM2_RM_MAX_RECLAIMED];
	r->handle = old->vhandle;
	r->seq = old->seq;
	tpm2_rm_flush(rm, old->vhandle);
	tpm2_rm_drop_ctx(rm, old);
	rm->stats.reclaimed++;
}

/**
 * tpm2_rm_reclaim_orphan() - end the oldest handed-off session
 * @rm:		resource manager
 * @min_age:	only if handed off at least that long ago (ms)
 *
 * Return: true if one was ended.
 */
bool tpm2_rm_reclaim_orphan(struct tpm2_rm *rm, unsigned int min_age)
{
	struct tpm2_rm_ctx *old;

	old = list_first_entry_or_null(&rm->orphans, struct tpm2_rm_ctx, node);
	if (!old || tpm2_rm_now(rm) - old->since < min_age)
		return false;
	end_orphan(rm, old);
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
 * share.  The victim is the last of @rm->ranked (or the one before, if
 * that is @c); clients whose every session is pinned are stepped over.
 *
 * Return: true if a session was ended.
 */
bool tpm2_rm_revoke_for(struct tpm2_rm *rm, struct tpm2_rm_client *c)
{
	unsigned int contenders, share;
	struct tpm2_rm_client *o;
	struct tpm2_rm_ctx *ctx;
	struct rb_node *n;

	contenders = rm->nr_holders + rm->nr_wanting;
	share = max(for_clients(rm) / max(contenders, 1u), 1u);
	for (n = rb_last(&rm->ranked); n; n = rb_prev(n)) {
		o = rb_entry(n, struct tpm2_rm_client, rank_node);
		if (o == c)
			continue;
		if (c && o->nr_sessions <= share)
			return false;
		ctx = lru_session(o);
		if (ctx) {
			tpm2_rm_revoke(rm, ctx);
			return true;
		}
	}
	return false;
}

/* ---- admission ---- */

static int admit_fail(struct tpm2_rm_client *c, u32 rc)
{
	c->rm->stats.wait_failed++;
	return rc;
}

/*
 * Sleep until woken, at most until the wait's end or @next (ms, 0: none).
 * Past the end only a client queued behind one that can go sleeps: the
 * one ahead wakes it; it looks again each second regardless.
 */
static int admit_wait(struct tpm2_rm_client *c, u64 now, u64 next)
{
	u64 end = c->wait_since + tpm2_rm_session_wait_ms;
	u64 until = end;

	if (next && next < until)
		until = next;
	c->wait_ms = until > now ? min_t(u64, until - now, UINT_MAX) :
				   TPM2_RM_CLAIM_IDLE_MS;
	c->waited = true;
	return TPM2_RM_WAIT;
}

/* The earliest moment the numbers change without an event. */
static u64 next_change(struct tpm2_rm *rm)
{
	struct tpm2_rm_client *o;
	struct tpm2_rm_ctx *old;
	u64 next = 0;

	o = list_first_entry_or_null(&rm->claimants, struct tpm2_rm_client,
				     claim_node);
	if (o)
		next = o->claim_until;
	if (rm->tpm_full && (!next || rm->full_since + TPM2_RM_FULL_MS < next))
		next = rm->full_since + TPM2_RM_FULL_MS;
	/* the oldest hand-off may be ended for a waiter then */
	old = list_first_entry_or_null(&rm->orphans, struct tpm2_rm_ctx, node);
	if (old && (!next || old->since + orphan_grace() < next))
		next = old->since + orphan_grace();
	return next;
}

static struct tpm2_rm_ctx *oldest_orphan_of(struct tpm2_rm_user *u)
{
	return list_first_entry_or_null(&u->orphans, struct tpm2_rm_ctx, unode);
}

/*
 * Only @c's own process holds sessions, and it cannot end one while @c
 * waits: waiting cannot help.  At most one step per holder, and each
 * holder holds a session.
 */
static bool futile_wait(struct tpm2_rm *rm, struct tpm2_rm_client *c)
{
	struct tpm2_rm_client *o;

	if (!c->alone || rm->nr_orphans || rm->tpm_full)
		return false;
	list_for_each_entry(o, &rm->holders, hold_node)
		if (o->pid != c->pid)
			return false;
	return true;
}

/* @c's user is at its bound: only that user's own sessions can help. */
static int admit_user_bound(struct tpm2_rm_client *c, u64 now)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_ctx *old = oldest_orphan_of(c->user);

	if (old) {
		end_orphan(rm, old);
		return 1;
	}
	enqueue(c, TPM2_RM_Q_USER);
	if (now - c->wait_since >= tpm2_rm_session_wait_ms ||
	    futile_wait(rm, c))
		return admit_fail(c, TPM2_RC_SESSION_HANDLES);
	return admit_wait(c, now, 0);
}

/**
 * tpm2_rm_admit() - may @c start a session now?
 * @c:		client sending StartAuthSession
 *
 * The first call queues @c; tpm2_rm_admit_done() dequeues it when its
 * command is over.  Under the chip lock; O(log clients).
 *
 * Return: 0 to go ahead; %TPM2_RM_WAIT to sleep up to @c->wait_ms (or
 * until woken) and ask again; or a response code to refuse the command
 * with (without the resource-manager layer).
 */
int tpm2_rm_admit(struct tpm2_rm_client *c)
{
	struct tpm2_rm *rm = c->rm;
	u64 now = tpm2_rm_now(rm);
	struct tpm2_rm_client *head, *young;
	enum tpm2_rm_queue q;
	unsigned int free;
	int rc;

	if (c->nr_sessions >= client_limit(rm))
		return TPM2_RC_SESSION_HANDLES;
	while (tpm2_rm_reclaim_orphan(rm, tpm2_rm_orphan_ms))
		;
	expire_claims(rm, now);
	if (!c->wait_ticket) {
		c->wait_ticket = ++rm->tickets;
		c->wait_since = now;
	}
	for (;;) {
		if (user_at_limit(rm, c->user)) {
			rc = admit_user_bound(c, now);
			if (rc == 1)
				continue;
			return rc;
		}
		q = c->nr_sessions ? TPM2_RM_Q_HOLDERS : TPM2_RM_Q_NEW;
		enqueue(c, q);
		free = free_sessions(rm, now);
		head = queue_head(queue_list(c, q));
		if (head == c && (q == TPM2_RM_Q_HOLDERS ? free > 0 :
				  new_may_go(rm, free)))
			return 0;
		/* ahead of it is someone who can go: it wakes us when done */
		if (head != c && free)
			return admit_wait(c, now, next_change(rm));
		if (free || !tpm2_rm_reclaim_orphan(rm, orphan_grace()))
			break;
	}

	if (!free && rm->nr_holders &&
	    rm->nr_waiting_holders == rm->nr_holders) {
		/* every holder waits for more: the youngest gives up */
		young = list_last_entry(&rm->holders, struct tpm2_rm_client,
					hold_node);
		if (young == c)
			return admit_fail(c, TPM2_RC_SESSION_HANDLES);
		wake_client(young);
	}
	if (now - c->wait_since >= tpm2_rm_session_wait_ms ||
	    futile_wait(rm, c)) {
		/* a session is free, only claims hold it back: take it */
		if (free || tpm2_rm_revoke_for(rm, c))
			return 0;
		return admit_fail(c, TPM2_RC_SESSION_HANDLES);
	}
	return admit_wait(c, now, next_change(rm));
}

/**
 * tpm2_rm_was_reclaimed() - is a session context one of a hand-off that
 *	was ended for room?
 * @rm:		resource manager
 * @handle:	the context's savedHandle
 * @seq:	its sequence
 *
 * A context of the session at that index no newer than the last one
 * the resource manager held of it belongs to that session or to an
 * earlier one at the index: the TPM would refuse to load it.  A session
 * started there since is saved with a newer sequence.
 *
 * Return: true if so (the client is told RM|TPM_RC_HANDLE + P + 1).
 */
bool tpm2_rm_was_reclaimed(struct tpm2_rm *rm, u32 handle, u64 seq)
{
	unsigned int i;

	for (i = 0; i < min(rm->next_reclaimed, TPM2_RM_MAX_RECLAIMED); i++)
		if (tpm2_rm_same_handle(rm->reclaimed[i].handle, handle) &&
		    seq <= rm->reclaimed[i].seq)
			return true;
	return false;
}

/**
 * tpm2_rm_admit_load() - may @c take over the session at @handle by
 *	loading its context?
 * @c:		client sending ContextLoad of a session context
 * @handle:	the session's handle (the context's savedHandle)
 *
 * Reloading a session @c holds changes no count.  Taking over another's
 * (a hand-off) or one the resource manager does not know must keep @c
 * and its user within their bounds.  It never waits.
 *
 * Return: 0, or a response code to refuse the command with (without the
 * resource-manager layer); nothing is lost either way.
 */
u32 tpm2_rm_admit_load(struct tpm2_rm_client *c, u32 handle)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_user *from = NULL;
	struct tpm2_rm_client *o;
	struct tpm2_rm_ctx *ctx;

	list_for_each_entry(ctx, &c->ctxs, node)
		if (ctx->kind == TPM2_RM_SESSION && !ctx->revoked &&
		    tpm2_rm_same_handle(ctx->vhandle, handle))
			return 0;
	if (c->nr_sessions >= client_limit(rm))
		return TPM2_RC_SESSION_HANDLES;
	list_for_each_entry(ctx, &rm->orphans, node)
		if (tpm2_rm_same_handle(ctx->vhandle, handle))
			from = ctx->user;
	if (!from)
		list_for_each_entry(o, &rm->clients, node)
			list_for_each_entry(ctx, &o->ctxs, node)
				if (ctx->kind == TPM2_RM_SESSION &&
				    !ctx->revoked &&
				    tpm2_rm_same_handle(ctx->vhandle, handle))
					from = ctx->user;
	if (from != c->user && user_at_limit(rm, c->user))
		return TPM2_RC_SESSION_HANDLES;
	return 0;
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
	dequeue(c);
	c->wait_ticket = 0;
	c->waited = false;
	wake_user(rm, c->user);
	wake_next(rm);
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

/**
 * tpm2_rm_drop_ctx() - forget a context
 * @rm:		resource manager
 * @ctx:	a context the TPM no longer has (or never will again)
 */
void tpm2_rm_drop_ctx(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	tpm2_rm_clear_resident(rm, ctx);
	if (ctx->kind == TPM2_RM_SESSION && !ctx->revoked)
		tpm2_rm_session_gone(rm, ctx);
	list_del(&ctx->node);
	if (ctx->client) {
		ctx->client->nr_ctxs--;
	} else {
		rm->nr_orphans--;
		list_del(&ctx->unode);
		tpm2_rm_user_put(rm, ctx->user);
	}
	kfree(ctx->blob);
	kfree(ctx->client_blob);
	kfree(ctx);
}

/* ---- context gap ---- */

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
		tpm2_rm_set_client_saved(ctx, false);
		/* loaded still, or again (tpm2_rm_save() undoes its save) */
		if (rc == -ENODATA)
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

/**
 * tpm2_rm_room() - make room, minding the context gap
 * @rm:		resource manager
 * @objects:	object slots needed
 * @sessions:	session slots needed
 *
 * Like tpm2_rm_make_room(), but a session about to be saved may first
 * need the oldest saved session refreshed; and if the TPM answers
 * CONTEXT_GAP to a save anyway, the oldest is refreshed and room made
 * again.
 *
 * Return: as tpm2_rm_make_room().
 */
int tpm2_rm_room(struct tpm2_rm *rm, unsigned int objects,
		 unsigned int sessions)
{
	int rc;

	if (sessions)
		tpm2_rm_regap(rm, false);
	rc = tpm2_rm_make_room(rm, objects, sessions);
	if (rc == TPM2_RC_CONTEXT_GAP && !rm->regapping &&
	    !tpm2_rm_regap(rm, true))
		rc = tpm2_rm_make_room(rm, objects, sessions);
	return rc;
}

/**
 * tpm2_rm_evict_one_more() - evict one more context, minding the gap
 * @rm:		resource manager
 * @sessions:	a session rather than an object or sequence
 *
 * Return: as tpm2_rm_evict_one().
 */
int tpm2_rm_evict_one_more(struct tpm2_rm *rm, bool sessions)
{
	int rc;

	if (sessions)
		tpm2_rm_regap(rm, false);
	rc = tpm2_rm_evict_one(rm, sessions);
	if (rc == TPM2_RC_CONTEXT_GAP && !rm->regapping &&
	    !tpm2_rm_regap(rm, true))
		rc = tpm2_rm_evict_one(rm, sessions);
	return rc;
}
