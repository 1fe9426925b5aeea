// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: the TPM forgot what it held.
 *
 * A _TPM_Init (the platform resets the TPM: a power glitch, a firmware
 * update, a hypervisor) empties the TPM's object and session slots.  The
 * TPM then answers TPM_RC_INITIALIZE to everything until a Startup,
 * whose type decides what else is gone (TPM 2.0 Part 1, "Startup"):
 *   Startup(CLEAR), no Shutdown(STATE) before: TPM Reset; every saved
 *     context is dead too (ContextLoad answers TPM_RC_INTEGRITY);
 *   Startup(CLEAR) after Shutdown(STATE): TPM Restart; saved contexts
 *     stay loadable, except those of stClear objects;
 *   Startup(STATE): TPM Resume; saved contexts stay loadable.
 *
 * Detection.  Every command reaches the TPM through tpm_transmit(), and
 * every response code is shown to tpm2_rm_saw_rc(): the resource
 * manager's own commands and its clients' by tpm2_rm_xmit(), the
 * kernel's and those written to /dev/tpmN by the chip glue.  Two codes
 * mean that the TPM forgot: TPM_RC_INITIALIZE to anything but Startup,
 * and a Startup that succeeds (only possible after a _TPM_Init, and
 * otherwise sent only by the kernel at probe or by someone through
 * /dev/tpmN).  Both merely set a flag, since the response may arrive in
 * the middle of a command with contexts pinned.
 *
 * Recovery.  Each entry point of the resource manager (a client command,
 * a kernel command, a /dev/tpmN command, a close) first calls
 * tpm2_rm_sync_tpm(), which
 *  - forgets every context it believed loaded: an object whose saved
 *    context is current is loaded from it again when next used (and is
 *    found dead then, after a TPM Reset); any other context is lost;
 *  - after a Startup, asks the TPM which sessions exist
 *    (GetCapability(TPM_CAP_HANDLES), two commands, once), ends its
 *    record of every other one, so that admission counts only what
 *    exists, and restarts its view of the session context counter.
 * Nothing is refused in advance and nothing is lost silently: a client
 * learns of each lost context when it next names it, by
 * RM | TPM_RC_REFERENCE_H0 + n (or _S0 + n) before anything reaches the
 * TPM, and it may flush the handle or close.  While the TPM waits for its
 * Startup, a command that needs a context loaded is answered
 * RM | TPM_RC_INITIALIZE; the TPM answers the others itself.  Who sends
 * the Startup is the platform's decision (a Startup(CLEAR) would destroy
 * a pending Resume); the resource manager does not.  Work started after
 * the Startup is unaffected.
 *
 * /dev/tpmN commands are preceded by tpm2_rm_evict_all(), so a Shutdown
 * (STATE) sent there finds every context saved, and a TPM Restart or
 * Resume after it loses nothing.
 *
 * Locking: the chip's tpm_mutex, see tpm2-rm.h.
 */
#include <linux/slab.h>
#include <linux/tpm.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"
#include <trace/events/tpm2_rm.h>

/* Room for the handle lists: more sessions than any TPM can have. */
#define TPM2_RM_MAX_LIVE	256

/* A session the TPM no longer has: a tombstone for a client's, gone for an orphan. */
static unsigned int session_gone_for_good(struct tpm2_rm *rm,
					  struct tpm2_rm_ctx *ctx)
{
	if (ctx->revoked)
		return 0;
	if (ctx->client)
		tpm2_rm_session_lost(rm, ctx);
	else
		tpm2_rm_drop_ctx(rm, ctx);
	return 1;
}

/* Nothing the resource manager loaded is in the TPM any longer. */
static void forget_resident(struct tpm2_rm *rm, unsigned int *lost_ctxs,
			    unsigned int *lost_sessions)
{
	struct tpm2_rm_ctx *ctx, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(ctx, tmp, &rm->objects, lru) {
		tpm2_rm_clear_resident(rm, ctx);
		if (!ctx->blob_valid) {
			ctx->dead = true;
			(*lost_ctxs)++;
		}
	}
	/* a session leaves the TPM's memory only by being saved */
	list_for_each_entry_safe(ctx, tmp, &rm->sessions, lru)
		n += session_gone_for_good(rm, ctx);
	*lost_sessions += n;
}

static bool listed(const u32 *h, unsigned int n, u32 handle)
{
	unsigned int i;

	/* saved sessions are listed with the HMAC prefix: compare indexes */
	for (i = 0; i < n; i++)
		if ((h[i] & 0xFFFFFF) == (handle & 0xFFFFFF))
			return true;
	return false;
}

/* Every session in existence, loaded and saved; -errno or TPM code on failure. */
static int live_sessions(struct tpm2_rm *rm, u32 *h, unsigned int *n)
{
	static const u32 types[] = { 0x02000000, 0x03000000 };
	unsigned int i, got;
	bool more;
	u32 first;
	int rc;

	*n = 0;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		first = types[i];
		do {
			rc = tpm2_rm_get_handles(rm, first, h + *n,
						 TPM2_RM_MAX_LIVE - *n, &got,
						 &more);
			if (rc)
				return rc;
			*n += got;
			if (!got)
				break;
			first = types[i] | ((h[*n - 1] & 0xFFFFFF) + 1);
		} while (more && *n < TPM2_RM_MAX_LIVE);
	}
	return 0;
}

/* The TPM numbers session contexts anew after a Reset. */
static void reset_seq(struct tpm2_rm *rm)
{
	rm->last_seq = 0;
	rm->oldest_hint = 0;
	rm->next_reclaimed = 0;
}

/*
 * After a Startup: keep the sessions the TPM still has, end the others.
 * Return: false if the TPM could not be asked (try again later).
 */
static bool reconcile_sessions(struct tpm2_rm *rm, unsigned int *lost)
{
	struct tpm2_rm_client *c;
	struct tpm2_rm_ctx *ctx, *tmp;
	unsigned int n;
	bool ok = false;
	u32 *h;

	h = kmalloc_array(TPM2_RM_MAX_LIVE, sizeof(*h), GFP_KERNEL);
	if (!h)
		return false;
	if (live_sessions(rm, h, &n))
		goto out;
	ok = true;
	reset_seq(rm);
	list_for_each_entry(c, &rm->clients, node)
		list_for_each_entry(ctx, &c->ctxs, node) {
			if (ctx->kind != TPM2_RM_SESSION || ctx->revoked)
				continue;
			if (!listed(h, n, ctx->vhandle))
				*lost += session_gone_for_good(rm, ctx);
			else
				rm->last_seq = max(rm->last_seq, ctx->seq);
		}
	list_for_each_entry_safe(ctx, tmp, &rm->orphans, node) {
		if (!listed(h, n, ctx->vhandle))
			*lost += session_gone_for_good(rm, ctx);
		else
			rm->last_seq = max(rm->last_seq, ctx->seq);
	}
	rm->tpm_full = false;
out:
	kfree(h);
	return ok;
}

static void catch_up(struct tpm2_rm *rm)
{
	unsigned int lost_ctxs = 0, lost_sessions = 0;
	bool started = rm->tpm_started;
	bool lost = rm->tpm_lost;

	rm->tpm_lost = false;
	rm->tpm_started = false;
	if (lost)	/* object slots emptied */
		tpm2_rm_unflushed_gone(rm, 0);
	/* the Startup at probe: no client has run a command yet */
	if (!rm->room_known)
		return;
	if (lost)
		forget_resident(rm, &lost_ctxs, &lost_sessions);
	/* only what the TPM still has can tell which sessions survived */
	if (started && rm->nr_live &&
	    !reconcile_sessions(rm, &lost_sessions)) {
		/* the next entry point asks again; what it loads since stays */
		rm->tpm_started = true;
		return;
	}
	if (started && !rm->nr_live)
		reset_seq(rm);
	if (started)
		rm->stats.tpm_resets++;
	trace_tpm2_rm_tpm_reset(started, lost_ctxs, lost_sessions);
}

/**
 * tpm2_rm_sync_tpm() - catch up with the TPM at an entry point
 * @rm:		resource manager; nothing of it is pinned
 *
 * Sends nothing unless tpm2_rm_saw_rc() saw the TPM being initialised or
 * started, the TPM could not be asked which sessions survived the last
 * Startup, or a FlushContext failed (tpm2_rm_retry_flushes()), which is
 * tried again here once the TPM has been started.
 */
void tpm2_rm_sync_tpm(struct tpm2_rm *rm)
{
	if (rm->tpm_lost || rm->tpm_started)
		catch_up(rm);
	if (rm->nr_unflushed && !rm->tpm_lost && !rm->tpm_started)
		tpm2_rm_retry_flushes(rm);
}
