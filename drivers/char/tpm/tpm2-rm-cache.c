// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: residency, i.e. which contexts are in the TPM.
 *
 * Policy.  A context stays loaded after the command that used it, for as
 * long as the TPM has room; a command loads only what it names.  When a
 * command needs a slot that is taken, the context that the command does
 * not name and whose next use is predicted furthest away
 * (tpm2-rm-policy.c decides) is evicted, whichever client holds it:
 * clients share the TPM's few slots instead of owning fixed ones.  In a
 * steady state where the working set fits, a client command costs one
 * TPM command.
 *
 * Eviction costs as little as the context allows.  A plain object's
 * saved context never changes, so it is saved once and afterwards only
 * flushed ("save-once").  A sequence changes with each use and is saved
 * again after it was used.  A session leaves the TPM's memory by being
 * saved (a flush would end it); its handle stays the same when it is
 * loaded again.
 *
 * Nothing here sends a command itself: tpm2-rm-io.c does.  Nothing here
 * knows of sessions' admission or the context gap either: callers that
 * may save a session go through tpm2_rm_room() (tpm2-rm-sessions.c).
 */
#include <linux/slab.h>
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"
#include <trace/events/tpm2_rm.h>

static struct list_head *resident_list(struct tpm2_rm *rm,
				       struct tpm2_rm_ctx *ctx)
{
	return ctx->kind == TPM2_RM_SESSION ? &rm->sessions : &rm->objects;
}

static unsigned int *resident_count(struct tpm2_rm *rm,
				    struct tpm2_rm_ctx *ctx)
{
	return ctx->kind == TPM2_RM_SESSION ? &rm->nr_sessions : &rm->nr_objects;
}

/**
 * tpm2_rm_set_resident() - record that a context is loaded at @phandle
 * @rm:		resource manager
 * @ctx:	the context, not resident yet
 * @phandle:	its TPM handle
 */
void tpm2_rm_set_resident(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			  u32 phandle)
{
	struct tpm2_rm_ctx *old;

	/*
	 * The TPM hands out an object handle that a resident context has:
	 * it forgot that one, in a reset the kernel did not see (see
	 * tpm2-rm-reset.c for those it sees).  Never map a client's handle
	 * onto another's object.
	 */
	if (ctx->kind != TPM2_RM_SESSION) {
		list_for_each_entry(old, &rm->objects, lru) {
			if (old->phandle != phandle)
				continue;
			tpm2_rm_clear_resident(rm, old);
			if (!old->blob_valid)
				old->dead = true;
			break;
		}
	}
	/* whatever a failed flush left at that handle is gone */
	tpm2_rm_unflushed_gone(rm, phandle);
	ctx->phandle = phandle;
	ctx->resident = true;
	list_add_tail(&ctx->lru, resident_list(rm, ctx));
	(*resident_count(rm, ctx))++;
}

/**
 * tpm2_rm_clear_resident() - record that a context left the TPM
 * @rm:		resource manager
 * @ctx:	the context
 */
void tpm2_rm_clear_resident(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	if (!ctx->resident)
		return;
	list_del_init(&ctx->lru);
	(*resident_count(rm, ctx))--;
	ctx->resident = false;
}

/**
 * tpm2_rm_touch() - mark a context most recently used
 * @rm:		resource manager
 * @ctx:	the context
 */
void tpm2_rm_touch(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	tpm2_rm_policy_used(ctx, rm->clock);
	if (ctx->resident)
		list_move_tail(&ctx->lru, resident_list(rm, ctx));
}

static void set_blob(struct tpm2_rm_ctx *ctx, u8 *blob, u16 len)
{
	kfree(ctx->blob);
	ctx->blob = blob;
	ctx->blob_len = len;
	ctx->blob_valid = !!blob;
}

/**
 * tpm2_rm_forget_blob() - drop a saved context that is no longer current
 * @ctx:	the context
 */
void tpm2_rm_forget_blob(struct tpm2_rm_ctx *ctx)
{
	set_blob(ctx, NULL, 0);
}

/**
 * tpm2_rm_evict() - take a resident context out of the TPM
 * @rm:		resource manager
 * @ctx:	resident, not pinned
 *
 * Objects and sequences are saved unless their saved context is current,
 * then flushed; sessions are saved.  If the save fails (CONTEXT_GAP
 * included, which the callers in tpm2-rm-sessions.c act on) the context stays
 * resident; if only the flush fails it is no longer tracked as resident,
 * since its saved context is safe.
 *
 * Return: 0, a TPM response code, or a negative errno.
 */
int tpm2_rm_evict(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	u16 len;
	u8 *blob;
	int rc;

	if (!ctx->blob_valid || ctx->kind == TPM2_RM_SESSION) {
		rc = tpm2_rm_save(rm, ctx->phandle, &blob, &len);
		if (rc == -ENODATA) {
			/* saved, no copy kept, could not be loaded again */
			tpm2_rm_clear_resident(rm, ctx);
			ctx->dead = true;
		}
		if (rc)
			return rc;
		set_blob(ctx, blob, len);
		if (ctx->kind == TPM2_RM_SESSION)
			tpm2_rm_saw_save(rm, ctx);
	}
	rm->stats.evictions++;
	trace_tpm2_rm_evict(ctx->client ? ctx->client->id : 0, ctx->vhandle,
			    ctx->phandle, ctx->kind == TPM2_RM_SESSION);
	tpm2_rm_clear_resident(rm, ctx);
	if (ctx->kind == TPM2_RM_SESSION)
		return 0;
	return tpm2_rm_flush(rm, ctx->phandle);
}

/**
 * tpm2_rm_restore() - load an evicted context again
 * @rm:		resource manager
 * @ctx:	not resident, with a saved context
 *
 * A session's saved context is consumed by the load; an object's stays
 * valid (save-once); a sequence's stays valid until the sequence is used.
 *
 * Return: 0, a TPM response code, or a negative errno.  A context the TPM
 * refuses to load is marked dead; not for lack of room, nor while the TPM
 * waits for its Startup (tpm2-rm-reset.c) or has failed.
 */
int tpm2_rm_restore(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	u32 handle;
	int rc;

	if (ctx->dead || !ctx->blob)
		return TPM2_RC_HANDLE;
	rc = tpm2_rm_load(rm, ctx->blob, ctx->blob_len, &handle);
	if (tpm2_rm_load_condemns(rc))
		ctx->dead = true;
	if (rc)
		return rc;
	if (ctx->kind == TPM2_RM_SESSION)
		tpm2_rm_forget_blob(ctx);
	tpm2_rm_set_resident(rm, ctx, handle);
	return 0;
}

/**
 * tpm2_rm_evict_one() - evict the unpinned context tpm2-rm-policy.c picks
 * @rm:		resource manager
 * @sessions:	a session rather than an object or sequence
 *
 * Return: 0, -ENOSPC if every resident context of that kind is pinned,
 * a TPM response code, or a negative errno.
 */
int tpm2_rm_evict_one(struct tpm2_rm *rm, bool sessions)
{
	struct tpm2_rm_ctx *victim;

	victim = tpm2_rm_policy_victim(sessions ? &rm->sessions : &rm->objects,
				       rm->clock);
	if (!victim)
		return -ENOSPC;
	return tpm2_rm_evict(rm, victim);
}

/**
 * tpm2_rm_make_room() - evict until the TPM has room
 * @rm:		resource manager
 * @objects:	object slots needed
 * @sessions:	session slots needed
 *
 * Return: 0, -ENOSPC if pinned contexts leave too little room (the TPM
 * then decides), a TPM response code, or a negative errno.
 */
int tpm2_rm_make_room(struct tpm2_rm *rm, unsigned int objects,
		      unsigned int sessions)
{
	int rc;

	while (rm->nr_objects && rm->nr_objects + objects > rm->max_objects) {
		rc = tpm2_rm_evict_one(rm, false);
		if (rc)
			return rc;
	}
	while (rm->nr_sessions && rm->nr_sessions + sessions > rm->max_sessions) {
		rc = tpm2_rm_evict_one(rm, true);
		if (rc)
			return rc;
	}
	return 0;
}

/**
 * tpm2_rm_saw_save() - a session's context was just saved into @ctx->blob
 * @rm:		resource manager
 * @ctx:	the session
 *
 * The TPM numbers saved session contexts anew only after a TPM Reset.
 * A sequence below the newest seen means one happened that the kernel
 * did not see (tpm2-rm-reset.c): the next entry point asks the TPM which
 * sessions still exist, as after a Startup it sees.
 */
void tpm2_rm_saw_save(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	ctx->seq = get_unaligned_be64(ctx->blob);
	if (ctx->seq < rm->last_seq)
		rm->tpm_started = true;
	rm->last_seq = max(rm->last_seq, ctx->seq);
}
