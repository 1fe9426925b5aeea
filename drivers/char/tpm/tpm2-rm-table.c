// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: each client's table of what it holds, and
 * the resolution of the handles a command names against it (step 2 of
 * tpm2-rm-core.c).
 *
 * A client sees only its own entries: objects and sequences under
 * virtual handles, dense from 0x80000000 for each client; sessions under
 * the TPM's own handle, since a session's handle is part of its name.
 * Resolution decides nothing and sends nothing: it tells the core what
 * a command names, or why the client may not name it:
 *   -EINVAL			a virtual handle the client does not hold
 *				(the ABI of /dev/tpmrmN since 4.12)
 *   TPM_RC_HANDLE + n		a session that is not the client's
 *   TPM_RC_REFERENCE_H0/S0 + n	a session of the client's that was revoked
 *				(tpm2-rm-sessions.c)
 * Closing a client is here too: what it held is flushed, except the
 * sessions it saved itself, which are kept for hand-off.
 *
 * Locking: the caller holds the chip's tpm_mutex (see tpm2-rm.h).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include "tpm.h"
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"

unsigned int tpm2_rm_max_client_contexts = 128;
module_param_named(rm_max_client_contexts, tpm2_rm_max_client_contexts,
		   uint, 0644);
MODULE_PARM_DESC(rm_max_client_contexts,
		 "Objects, sequences and sessions one /dev/tpmrm file may hold");

unsigned int tpm2_rm_max_orphans = 64;
module_param_named(rm_max_orphans, tpm2_rm_max_orphans, uint, 0644);
MODULE_PARM_DESC(rm_max_orphans,
		 "Sessions kept for hand-off after the client that saved them closed (each counts toward its user's bound)");

/*
 * Virtual handles count up from the first transient handle, so a new
 * client's handles are dense from 0x80000000, as the kernel's tpm2
 * selftests (and the previous resource manager) expect.
 */
#define TPM2_RM_VHANDLE_FIRST	0x80000000
#define TPM2_RM_VHANDLE_LAST	0x80FFFFFF

/**
 * tpm2_rm_find_ctx() - the client's entry for a handle it uses
 * @c:		the client
 * @handle:	virtual handle of an object or sequence, or a session's
 *
 * A session is found by its index, whatever the handle's type, as the
 * TPM finds it (tpm2_rm_same_handle()).
 *
 * Return: the entry, or NULL.
 */
struct tpm2_rm_ctx *tpm2_rm_find_ctx(struct tpm2_rm_client *c, u32 handle)
{
	struct tpm2_rm_ctx *ctx;

	list_for_each_entry(ctx, &c->ctxs, node)
		if (tpm2_rm_same_handle(ctx->vhandle, handle))
			return ctx;
	return NULL;
}

/**
 * tpm2_rm_new_ctx() - a new entry in the client's table
 * @c:		the client
 * @kind:	what it is
 * @vhandle:	for a session, the TPM's handle; otherwise ignored, the
 *		next virtual handle is given
 *
 * Return: the entry, ERR_PTR(-EDQUOT) over the client's bound
 * (rm_max_client_contexts) or out of virtual handles, ERR_PTR(-ENOMEM).
 */
struct tpm2_rm_ctx *tpm2_rm_new_ctx(struct tpm2_rm_client *c,
				    enum tpm2_rm_kind kind, u32 vhandle)
{
	struct tpm2_rm_ctx *ctx;

	if (c->nr_ctxs >= tpm2_rm_max_client_contexts)
		return ERR_PTR(-EDQUOT);
	if (kind != TPM2_RM_SESSION) {
		if (c->next_vhandle > TPM2_RM_VHANDLE_LAST)
			return ERR_PTR(-EDQUOT);
		vhandle = c->next_vhandle++;
	}
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&ctx->lru);
	INIT_LIST_HEAD(&ctx->unode);
	ctx->kind = kind;
	ctx->vhandle = vhandle;
	ctx->client = c;
	list_add_tail(&ctx->node, &c->ctxs);
	c->nr_ctxs++;
	if (kind == TPM2_RM_SESSION)
		tpm2_rm_session_born(c->rm, ctx);
	return ctx;
}

/**
 * tpm2_rm_claim_session() - enter a session the TPM gave the client
 * @c:		the client
 * @handle:	the session's handle, from StartAuthSession or ContextLoad
 *
 * Any other entry with that handle is stale (the TPM ended that session
 * behind our back) or is a handed-off session changing owner.  A revoked
 * entry stays: it tells its owner what happened.  Only
 * StartAuthSession and ContextLoad return a session handle, and neither
 * names a session, so no entry dropped here is pinned.
 *
 * Return: as tpm2_rm_new_ctx().
 */
struct tpm2_rm_ctx *tpm2_rm_claim_session(struct tpm2_rm_client *c,
					  u32 handle)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_client *other;
	struct tpm2_rm_ctx *ctx, *tmp;

	list_for_each_entry(other, &rm->clients, node)
		list_for_each_entry_safe(ctx, tmp, &other->ctxs, node)
			if (ctx->kind == TPM2_RM_SESSION && !ctx->revoked &&
			    tpm2_rm_same_handle(ctx->vhandle, handle))
				tpm2_rm_drop_ctx(rm, ctx);
	list_for_each_entry_safe(ctx, tmp, &rm->orphans, node)
		if (tpm2_rm_same_handle(ctx->vhandle, handle))
			tpm2_rm_drop_ctx(rm, ctx);
	/* the client loads a context of that handle: it knows it anew */
	ctx = tpm2_rm_find_ctx(c, handle);
	if (ctx)
		tpm2_rm_drop_ctx(rm, ctx);
	return tpm2_rm_new_ctx(c, TPM2_RM_SESSION, handle);
}

/**
 * tpm2_rm_resolve() - what a command names, in the client's table
 * @c:		the client
 * @cmd:	the parsed command
 * @refs:	filled with the entries of its handles and sessions
 * @rc:		set to a response code if the client may not name one
 *		(see the top of this file); left alone otherwise
 *
 * Return: 0, or -EINVAL for a virtual handle the client does not hold.
 */
int tpm2_rm_resolve(struct tpm2_rm_client *c, const struct tpm2_rm_cmd *cmd,
		    struct tpm2_rm_refs *refs, u32 *rc)
{
	struct tpm2_rm_ctx *ctx;
	unsigned int i;
	u32 h;

	memset(refs, 0, sizeof(*refs));
	for (i = 0; i < cmd->nr_handles; i++) {
		h = cmd->handles[i];
		switch (TPM2_RM_HT(h)) {
		case TPM2_HT_TRANSIENT:
			ctx = tpm2_rm_find_ctx(c, h);
			if (!ctx || ctx->kind == TPM2_RM_SESSION)
				return -EINVAL;
			refs->h[i] = ctx;
			break;
		case TPM2_HT_HMAC_SESSION:
		case TPM2_HT_POLICY_SESSION:
			ctx = tpm2_rm_find_ctx(c, h);
			if (!ctx) {
				*rc = TPM2_RC_HANDLE | ((i + 1) << TPM2_RC_N_SHIFT);
				return 0;
			}
			if (ctx->revoked) {
				*rc = TPM2_RC_REFERENCE_H0 + i;
				return 0;
			}
			refs->h[i] = ctx;
			break;
		case TPM2_HT_PERSISTENT:
			refs->persistent++;
			break;
		}
	}
	for (i = 0; i < cmd->nr_sessions; i++) {
		h = cmd->sessions[i];
		if (!tpm2_rm_is_session(h))
			continue;
		ctx = tpm2_rm_find_ctx(c, h);
		if (!ctx) {
			*rc = TPM2_RC_HANDLE | TPM2_RC_S |
			      ((i + 1) << TPM2_RC_N_SHIFT);
			return 0;
		}
		if (ctx->revoked) {
			*rc = TPM2_RC_REFERENCE_S0 + i;
			return 0;
		}
		refs->s[i] = ctx;
	}
	return 0;
}

/**
 * tpm2_rm_drop_ref() - forget a context a command named
 * @rm:		resource manager
 * @refs:	what the command named; every reference to @ctx is cleared
 * @ctx:	the context, which the TPM no longer holds
 */
void tpm2_rm_drop_ref(struct tpm2_rm *rm, struct tpm2_rm_refs *refs,
		      struct tpm2_rm_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++)
		if (refs->h[i] == ctx)
			refs->h[i] = NULL;
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++)
		if (refs->s[i] == ctx)
			refs->s[i] = NULL;
	tpm2_rm_drop_ctx(rm, ctx);
}

/**
 * tpm2_rm_pin_refs() - keep what a command names from being evicted
 * @refs:	what it names
 * @pin:	true before the command is prepared, false once it is done
 */
void tpm2_rm_pin_refs(struct tpm2_rm_refs *refs, bool pin)
{
	unsigned int i;

	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++)
		if (refs->h[i])
			refs->h[i]->pinned = pin;
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++)
		if (refs->s[i])
			refs->s[i]->pinned = pin;
}

/**
 * tpm2_rm_map_handles() - put handles of one kind in a command's handle area
 * @cmd:	the parsed command
 * @refs:	what it names
 * @buf:	the command
 * @tpm:	true: the TPM's handles of the objects and sequences, which
 *		are resident; false: the client's again, to run it anew
 *
 * Sessions are named by the TPM's handles already.
 */
void tpm2_rm_map_handles(const struct tpm2_rm_cmd *cmd,
			 const struct tpm2_rm_refs *refs, u8 *buf, bool tpm)
{
	struct tpm2_rm_ctx *ctx;
	unsigned int i;

	for (i = 0; i < cmd->nr_handles; i++) {
		ctx = refs->h[i];
		if (ctx && ctx->kind != TPM2_RM_SESSION)
			put_unaligned_be32(tpm ? ctx->phandle : ctx->vhandle,
					   buf + TPM_HEADER_SIZE + 4 * i);
	}
}

/**
 * tpm2_rm_client_alloc() - a new client (an open /dev/tpmrmN file)
 * @rm:		resource manager; the caller holds the chip's tpm_mutex
 * @uid:	the user opening it
 *
 * An idle client costs this structure alone; its contexts are allocated
 * as it creates them, charged to its memory cgroup.
 *
 * Return: the client, or NULL.
 */
struct tpm2_rm_client *tpm2_rm_client_alloc(struct tpm2_rm *rm, kuid_t uid)
{
	struct tpm2_rm_client *c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);

	if (!c)
		return NULL;
	c->user = tpm2_rm_user_get(rm, uid);
	if (!c->user) {
		kfree(c);
		return NULL;
	}
	c->rm = rm;
	c->id = ++rm->next_id;
	c->uid = uid;
	INIT_LIST_HEAD(&c->ctxs);
	INIT_LIST_HEAD(&c->hold_node);
	RB_CLEAR_NODE(&c->rank_node);
	INIT_LIST_HEAD(&c->wait_node);
	INIT_LIST_HEAD(&c->claim_node);
	init_waitqueue_head(&c->waitq);
	c->next_vhandle = TPM2_RM_VHANDLE_FIRST;
	list_add_tail(&c->node, &rm->clients);
	return c;
}

/* Keep a session the client saved: another client may load it. */
static void orphan_session(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			   bool tpm_usable)
{
	struct tpm2_rm_ctx *oldest;

	tpm2_rm_orphan(rm, ctx);
	while (rm->nr_orphans > tpm2_rm_max_orphans) {
		oldest = list_first_entry(&rm->orphans, struct tpm2_rm_ctx, node);
		if (tpm_usable)
			tpm2_rm_flush(rm, oldest->vhandle);
		tpm2_rm_drop_ctx(rm, oldest);
	}
}

/**
 * tpm2_rm_client_free() - a client closed: flush and free what it held
 * @c:		the client
 * @tpm_usable:	the caller holds the chip's tpm_mutex and the TPM can be
 *		used; otherwise only memory is freed
 *
 * Sessions the client saved itself are kept for hand-off (tpm2-tools
 * passes sessions between processes in files), up to rm_max_orphans;
 * they keep counting toward the user's session bound.
 */
void tpm2_rm_client_free(struct tpm2_rm_client *c, bool tpm_usable)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_ctx *ctx, *tmp;

	if (tpm_usable)
		tpm2_rm_sync_tpm(rm);
	tpm2_rm_admit_done(c, TPM2_RM_RC(TPM2_RC_CANCELED));
	tpm2_rm_claim(c, false);
	rm->cur_client = c->id;
	list_for_each_entry_safe(ctx, tmp, &c->ctxs, node) {
		if (ctx->kind == TPM2_RM_SESSION && ctx->client_saved) {
			orphan_session(rm, ctx, tpm_usable);
			continue;
		}
		if (tpm_usable && ctx->resident)
			tpm2_rm_flush(rm, ctx->phandle);
		else if (tpm_usable && ctx->kind == TPM2_RM_SESSION &&
			 !ctx->revoked)
			tpm2_rm_flush(rm, ctx->vhandle);
		tpm2_rm_drop_ctx(rm, ctx);
	}
	rm->cur_client = 0;
	list_del(&c->node);
	tpm2_rm_user_put(rm, c->user);
	kfree(c);
}
