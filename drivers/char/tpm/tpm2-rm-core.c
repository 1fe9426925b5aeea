// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: one client command, from the bytes a client
 * wrote to the response it reads.
 *
 *  1. Parse it (tpm2-rm-cmd.c); refuse what does not parse.
 *  2. Resolve every handle it names against the client's own table: a
 *     virtual object handle the client does not hold is refused with
 *     EINVAL (the ABI of /dev/tpmrmN since 4.12), a session that is not
 *     the client's with TPM_RC_HANDLE in the resource-manager layer.  No
 *     client reaches another's objects or sessions.
 *  3. Pin what it names, make room, load what is not resident
 *     (tpm2-rm-cache.c), and put the TPM's handles in the handle area.
 *  4. Send it; on OBJECT_MEMORY or SESSION_MEMORY (something outside the
 *     resource manager took a slot) evict one more context and repeat.
 *  5. Learn from the response: new objects and sessions, sessions the TPM
 *     ended, sequences it flushed, sessions the client saved.
 *
 * FlushContext and GetCapability(TPM_CAP_HANDLES) of the client's own
 * handles are answered here, without the TPM when nothing is loaded.
 *
 * Failures the resource manager decides are answered as ordinary
 * responses with a code in the resource-manager layer (11 << 16):
 *   RM | TPM_RC_HANDLE + handle/session number: not this client's session
 *   RM | TPM_RC_REFERENCE_H0 + n / _S0 + n: the context behind handle or
 *        session n could not be loaded again (lost, e.g. by a TPM reset)
 *   RM | any other TPM code: what the TPM answered to a ContextLoad the
 *        command needed (e.g. TPM_RC_INITIALIZE: the TPM was reset and
 *        waits for its Startup, tpm2-rm-reset.c); nothing is lost
 *   RM | TPM_RC_OBJECT_MEMORY: over the per-client bound of contexts
 *   RM | TPM_RC_MEMORY: the kernel could not allocate memory
 *   RM | TPM_RC_COMMAND_CODE, _COMMAND_SIZE, _BAD_TAG, _INSUFFICIENT,
 *        _AUTHSIZE: the command is unknown or malformed
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
#define TPM2_RM_MAX_CAP_HANDLES	254

/* What one command names, resolved against the client's table. */
struct rm_refs {
	struct tpm2_rm_ctx *h[TPM2_RM_MAX_HANDLES];
	struct tpm2_rm_ctx *s[TPM2_RM_MAX_SESSIONS];
	unsigned int persistent;
};

static size_t rm_refuse(struct tpm2_rm *rm, u8 *buf, u32 rc)
{
	rm->stats.refused++;
	return tpm2_rm_error_rsp(buf, TPM2_RM_RC(rc));
}

/* ---- the client's table ---- */

static struct tpm2_rm_ctx *find_ctx(struct tpm2_rm_client *c, u32 handle)
{
	struct tpm2_rm_ctx *ctx;

	list_for_each_entry(ctx, &c->ctxs, node)
		if (ctx->vhandle == handle)
			return ctx;
	return NULL;
}

static struct tpm2_rm_ctx *new_ctx(struct tpm2_rm_client *c,
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

/*
 * A session handle the TPM just handed out, or loaded for this client:
 * any other entry with that handle is stale (the TPM ended that session
 * behind our back) or is a handed-off session changing owner.  A revoked
 * entry stays: it tells its owner what happened.  Only
 * StartAuthSession and ContextLoad return a session handle, and neither
 * names a session, so no entry dropped here is pinned.
 */
static struct tpm2_rm_ctx *claim_session(struct tpm2_rm_client *c, u32 handle)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_client *other;
	struct tpm2_rm_ctx *ctx, *tmp;

	list_for_each_entry(other, &rm->clients, node)
		list_for_each_entry_safe(ctx, tmp, &other->ctxs, node)
			if (ctx->kind == TPM2_RM_SESSION && !ctx->revoked &&
			    ctx->vhandle == handle)
				tpm2_rm_drop_ctx(rm, ctx);
	list_for_each_entry_safe(ctx, tmp, &rm->orphans, node)
		if (ctx->vhandle == handle)
			tpm2_rm_drop_ctx(rm, ctx);
	/* the client loads a context of that handle: it knows it anew */
	ctx = find_ctx(c, handle);
	if (ctx)
		tpm2_rm_drop_ctx(rm, ctx);
	return new_ctx(c, TPM2_RM_SESSION, handle);
}

/* ---- step 2: resolve ---- */

static int resolve(struct tpm2_rm_client *c, const struct tpm2_rm_cmd *cmd,
		   struct rm_refs *refs, u32 *rc)
{
	struct tpm2_rm_ctx *ctx;
	unsigned int i;
	u32 h;

	memset(refs, 0, sizeof(*refs));
	for (i = 0; i < cmd->nr_handles; i++) {
		h = cmd->handles[i];
		switch (TPM2_RM_HT(h)) {
		case TPM2_HT_TRANSIENT:
			ctx = find_ctx(c, h);
			if (!ctx || ctx->kind == TPM2_RM_SESSION)
				return -EINVAL;
			refs->h[i] = ctx;
			break;
		case TPM2_HT_HMAC_SESSION:
		case TPM2_HT_POLICY_SESSION:
			ctx = find_ctx(c, h);
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
		ctx = find_ctx(c, h);
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

/* Forget a context the command named, and every reference to it. */
static void drop_ref(struct tpm2_rm *rm, struct rm_refs *refs,
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

static void pin_refs(struct rm_refs *refs, bool pin)
{
	unsigned int i;

	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++)
		if (refs->h[i])
			refs->h[i]->pinned = pin;
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++)
		if (refs->s[i])
			refs->s[i]->pinned = pin;
}

/* ---- step 3: room and loads ---- */

static bool needs_load(struct tpm2_rm_ctx *ctx)
{
	return ctx && !ctx->resident && !ctx->client_saved;
}

/* Slots a command takes by itself: the object or session it creates. */
static void created_slots(const struct tpm2_rm_cmd *cmd, const u8 *buf,
			  unsigned int *objects, unsigned int *sessions)
{
	if (cmd->cc == TPM2_CC_START_AUTH_SESS) {
		(*sessions)++;
	} else if (cmd->cc == TPM2_CC_CONTEXT_LOAD) {
		/* TPMS_CONTEXT: sequence u64, then savedHandle */
		if (cmd->size >= cmd->params_off + 12 &&
		    tpm2_rm_is_session(get_unaligned_be32(buf + cmd->params_off + 8)))
			(*sessions)++;
		else
			(*objects)++;
	} else if (tpm2_rm_cc_takes_object(cmd->cc, cmd->attrs)) {
		(*objects)++;
	}
}

static u32 load_refs(struct tpm2_rm *rm, const struct tpm2_rm_cmd *cmd,
		     const u8 *buf, struct rm_refs *refs, int *err)
{
	unsigned int objects = refs->persistent, sessions = 0, i;
	int rc;

	created_slots(cmd, buf, &objects, &sessions);
	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++)
		if (needs_load(refs->h[i])) {
			if (refs->h[i]->kind == TPM2_RM_SESSION)
				sessions++;
			else
				objects++;
		}
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++)
		if (needs_load(refs->s[i]))
			sessions++;

	rc = tpm2_rm_room(rm, objects, sessions);
	if (rc < 0 && rc != -ENOSPC) {
		*err = rc;
		return 0;
	}

	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++) {
		if (!needs_load(refs->h[i]))
			continue;
		rc = tpm2_rm_restore(rm, refs->h[i]);
		if (rc < 0) {
			*err = rc;
			return 0;
		}
		if (rc && !refs->h[i]->dead)
			return rc;
		if (rc)
			return (refs->h[i]->kind == TPM2_RM_SESSION ?
				TPM2_RC_REFERENCE_S0 : TPM2_RC_REFERENCE_H0) + i;
	}
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++) {
		if (!needs_load(refs->s[i]))
			continue;
		rc = tpm2_rm_restore(rm, refs->s[i]);
		if (rc < 0) {
			*err = rc;
			return 0;
		}
		if (rc && !refs->s[i]->dead)
			return rc;
		if (rc)
			return TPM2_RC_REFERENCE_S0 + i;
	}
	return 0;
}

/* ---- step 4: send, repeating after OBJECT/SESSION_MEMORY ---- */

/*
 * What to do about a response code: 1 to send the command again, 0 to
 * pass the response on, %TPM2_RM_WAIT for a StartAuthSession that must
 * wait for a session.
 */
static int after_rc(struct tpm2_rm *rm, u32 cc, u32 rc, unsigned int *gaps)
{
	switch (rc) {
	case TPM2_RC_OBJECT_MEMORY:
	case TPM2_RC_SESSION_MEMORY:
		if (tpm2_rm_evict_one_more(rm, rc == TPM2_RC_SESSION_MEMORY))
			return 0;
		rm->stats.retries++;
		return 1;
	case TPM2_RC_SESSION_HANDLES:
		if (cc != TPM2_CC_START_AUTH_SESS)
			return 0;
		if (tpm2_rm_reclaim_orphan(rm, false))
			return 1;
		/* sessions we do not know of: wait for ours to end */
		rm->tpm_full = true;
		rm->full_since = tpm2_rm_now(rm);
		return TPM2_RM_WAIT;
	case TPM2_RC_CONTEXT_GAP:
		return (*gaps)++ < 2 && !tpm2_rm_regap(rm, true);
	}
	return 0;
}

static ssize_t send_cmd(struct tpm2_rm *rm, u32 cc, u8 *buf, size_t len)
{
	unsigned int gaps = 0;
	ssize_t ret;
	int again;

	memcpy(rm->copy, buf, len);
	for (;;) {
		ret = tpm2_rm_xmit(rm, buf, len);
		if (ret < 0)
			return ret;
		again = after_rc(rm, cc, get_unaligned_be32(buf + 6), &gaps);
		if (again <= 0) {
			if (again == TPM2_RM_WAIT) {
				memcpy(buf, rm->copy, len);
				return TPM2_RM_WAIT;
			}
			return ret;
		}
		memcpy(buf, rm->copy, len);
	}
}

/* ---- step 5: learn from the response ---- */

/* Tombstones one StartAuthSession may step over (a TPM Reset makes many). */
#define TPM2_RM_MAX_PARKED	16

/*
 * The TPM gave the client a session at a handle value the client still
 * holds a revoked entry for, and has not been told.  Keep that session a
 * moment, saved so that it holds the handle value but no session slot,
 * so the TPM picks another value, and repeat StartAuthSession; then end
 * the first one.  @buf gets the response that is kept.
 */
static bool avoid_tombstone(struct tpm2_rm_client *c, u8 *buf, u32 *handle)
{
	struct tpm2_rm *rm = c->rm;
	u32 parked[TPM2_RM_MAX_PARKED];
	struct tpm2_rm_ctx *old;
	unsigned int n = 0, i;
	bool ok = true;
	u16 blob_len;
	u8 *blob;
	u32 len;

	len = get_unaligned_be32(rm->copy + 2);
	while ((old = find_ctx(c, *handle)) && old->revoked) {
		if (n == ARRAY_SIZE(parked)) {
			tpm2_rm_flush(rm, *handle);
			ok = false;
			break;
		}
		parked[n++] = *handle;
		/* a flush ends it below, saved or not */
		if (!tpm2_rm_save(rm, *handle, &blob, &blob_len))
			kfree(blob);
		tpm2_rm_room(rm, 0, 1);
		memcpy(buf, rm->copy, len);
		if (tpm2_rm_xmit(rm, buf, len) < TPM_HEADER_SIZE + 4 ||
		    get_unaligned_be32(buf + 6)) {
			ok = false;
			break;
		}
		*handle = get_unaligned_be32(buf + TPM_HEADER_SIZE);
	}
	for (i = 0; i < n; i++)
		tpm2_rm_flush(rm, parked[i]);
	return ok;
}

static u32 adopt_new_handle(struct tpm2_rm_client *c,
			    const struct tpm2_rm_cmd *cmd, const u8 *cmdbuf,
			    u8 *buf, u32 handle)
{
	struct tpm2_rm *rm = c->rm;
	enum tpm2_rm_kind kind = TPM2_RM_OBJECT;
	struct tpm2_rm_ctx *ctx;
	u32 saved;

	if (tpm2_rm_is_session(handle)) {
		if (cmd->cc == TPM2_CC_START_AUTH_SESS &&
		    !avoid_tombstone(c, buf, &handle))
			return TPM2_RC_SESSION_HANDLES;
		kind = TPM2_RM_SESSION;
		ctx = claim_session(c, handle);
	} else if (TPM2_RM_HT(handle) == TPM2_HT_TRANSIENT) {
		if (cmd->cc == TPM2_CC_HASH_SEQUENCE_START || cmd->cc == 0x15B)
			kind = TPM2_RM_SEQUENCE;
		if (cmd->cc == TPM2_CC_CONTEXT_LOAD) {
			saved = get_unaligned_be32(cmdbuf + cmd->params_off + 8);
			if (saved == 0x80000001)
				kind = TPM2_RM_SEQUENCE;
		}
		ctx = new_ctx(c, kind, 0);
	} else {
		return 0;	/* a persistent or NV handle: nothing to track */
	}

	if (IS_ERR(ctx)) {
		tpm2_rm_flush(rm, handle);
		return PTR_ERR(ctx) == -EDQUOT ? TPM2_RC_OBJECT_MEMORY :
						 TPM2_RC_MEMORY;
	}
	tpm2_rm_set_resident(rm, ctx, handle);
	tpm2_rm_touch(rm, ctx);
	/* A loaded object's context is already saved: keep it (save-once). */
	if (cmd->cc == TPM2_CC_CONTEXT_LOAD && kind != TPM2_RM_SESSION) {
		ctx->blob = kmemdup(cmdbuf + cmd->params_off,
				    cmd->size - cmd->params_off, GFP_KERNEL_ACCOUNT);
		ctx->blob_len = cmd->size - cmd->params_off;
		ctx->blob_valid = !!ctx->blob;
	}
	put_unaligned_be32(ctx->vhandle, buf + TPM_HEADER_SIZE);
	return 0;
}

/*
 * A client saved a session: it holds the only loadable context.  Keep a
 * copy, so the session can be refreshed (regap) and reclaimed.  Without
 * a copy it could be neither, and once the context gap reached it every
 * session save on the chip would fail: if the copy cannot be made, the
 * save is undone (the session is loaded again from the client's
 * context, which is consumed) and the client told RM|TPM_RC_MEMORY.
 *
 * Return: 0, or a response code for the client.
 */
static u32 keep_client_save(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			    const u8 *buf, size_t len)
{
	u32 handle;

	tpm2_rm_forget_blob(ctx);
	kfree(ctx->client_blob);
	ctx->client_blob = NULL;
	if (len < TPM_HEADER_SIZE + 18 || len - TPM_HEADER_SIZE > U16_MAX) {
		tpm2_rm_session_lost(rm, ctx);
		return TPM2_RC_MEMORY;
	}
	ctx->blob = kmemdup(buf + TPM_HEADER_SIZE, len - TPM_HEADER_SIZE,
			    GFP_KERNEL_ACCOUNT);
	if (!ctx->blob) {
		if (!tpm2_rm_load(rm, buf + TPM_HEADER_SIZE,
				  len - TPM_HEADER_SIZE, &handle)) {
			tpm2_rm_set_resident(rm, ctx, handle);
		} else {
			tpm2_rm_flush(rm, ctx->vhandle);
			tpm2_rm_session_lost(rm, ctx);
		}
		return TPM2_RC_MEMORY;
	}
	ctx->blob_len = len - TPM_HEADER_SIZE;
	tpm2_rm_set_client_saved(ctx, true);
	tpm2_rm_saw_save(rm, ctx);
	return 0;
}

static u32 commit(struct tpm2_rm_client *c, const struct tpm2_rm_cmd *cmd,
		  struct rm_refs *refs, u8 *buf, size_t len)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_ctx *ctx;
	struct tpm2_rm_rsp rsp;
	unsigned int i;

	for (i = 0; i < TPM2_RM_MAX_HANDLES; i++)
		if (refs->h[i])
			tpm2_rm_touch(rm, refs->h[i]);
	for (i = 0; i < TPM2_RM_MAX_SESSIONS; i++)
		if (refs->s[i])
			tpm2_rm_touch(rm, refs->s[i]);

	if (tpm2_rm_parse_rsp(buf, len, cmd, &rsp) || rsp.rc)
		return 0;

	for (i = 0; i < cmd->nr_handles; i++) {
		ctx = refs->h[i];
		if (!ctx || ctx->kind != TPM2_RM_SEQUENCE)
			continue;
		if (cmd->attrs & TPM2_CC_ATTR_FLUSHED)
			drop_ref(rm, refs, ctx);
		else
			tpm2_rm_forget_blob(ctx);
	}

	/* continueSession clear on success: the TPM ended the session */
	for (i = 0; i < rsp.nr_sessions; i++) {
		ctx = refs->s[i];
		if (ctx && !(rsp.session_attrs[i] & TPM2_SA_CONTINUE_SESSION))
			drop_ref(rm, refs, ctx);
	}

	/* A session the client saved left the TPM's memory. */
	ctx = refs->h[0];
	if (cmd->cc == TPM2_CC_CONTEXT_SAVE && ctx) {
		if (ctx->kind == TPM2_RM_SESSION) {
			tpm2_rm_clear_resident(rm, ctx);
			return keep_client_save(rm, ctx, buf, len);
		} else if (ctx->kind == TPM2_RM_OBJECT && !ctx->blob_valid &&
			   len > TPM_HEADER_SIZE) {
			/* the client's copy is ours too (save-once) */
			ctx->blob = kmemdup(buf + TPM_HEADER_SIZE,
					    len - TPM_HEADER_SIZE, GFP_KERNEL_ACCOUNT);
			ctx->blob_len = len - TPM_HEADER_SIZE;
			ctx->blob_valid = !!ctx->blob;
		}
	}

	if (rsp.has_handle)
		return adopt_new_handle(c, cmd, rm->copy, buf, rsp.handle);
	return 0;
}

/* ---- commands answered by the resource manager ---- */

static size_t ok_rsp(u8 *buf)
{
	return tpm2_rm_error_rsp(buf, 0);
}

/*
 * FlushContext of the client's own handles.  An object that is not
 * resident costs no TPM command.
 */
static ssize_t flush_context(struct tpm2_rm_client *c,
			     const struct tpm2_rm_cmd *cmd, u8 *buf, size_t len)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_ctx *ctx;
	u32 h = cmd->handles[0];
	ssize_t ret;
	u32 rc;

	if (!tpm2_rm_is_session(h) && TPM2_RM_HT(h) != TPM2_HT_TRANSIENT)
		return tpm2_rm_xmit(rm, buf, len);
	ctx = find_ctx(c, h);
	if (!ctx) {
		if (TPM2_RM_HT(h) == TPM2_HT_TRANSIENT)
			return -EINVAL;
		return rm_refuse(rm, buf, TPM2_RC_HANDLE | TPM2_RC_P |
				 (1 << TPM2_RC_N_SHIFT));
	}
	if (ctx->kind != TPM2_RM_SESSION || ctx->revoked) {
		if (ctx->resident)
			tpm2_rm_flush(rm, ctx->phandle);
		tpm2_rm_drop_ctx(rm, ctx);
		return ok_rsp(buf);
	}
	/* a session ends whether loaded or saved: let the TPM say so */
	ret = tpm2_rm_xmit(rm, buf, len);
	if (ret < 0)
		return ret;
	rc = get_unaligned_be32(buf + 6);
	if (!rc || tpm2_rc_value(rc) == TPM2_RC_HANDLE)
		tpm2_rm_drop_ctx(rm, ctx);
	return ret;
}

/*
 * How a context shows in GetCapability(TPM_CAP_HANDLES, @type): objects
 * and sequences under 0x80; sessions the client can use under 0x02;
 * sessions it saved itself under 0x03, with the 0x02 prefix as the TPM
 * lists saved sessions.
 */
static bool listed_as(const struct tpm2_rm_ctx *ctx, u8 type, u32 *h)
{
	if (ctx->revoked)
		return false;
	if (ctx->kind != TPM2_RM_SESSION) {
		*h = ctx->vhandle;
		return type == TPM2_HT_TRANSIENT;
	}
	if (type == TPM2_HT_HMAC_SESSION && !ctx->client_saved) {
		*h = ctx->vhandle;
		return true;
	}
	*h = (ctx->vhandle & 0x00FFFFFF) | (TPM2_HT_HMAC_SESSION << 24);
	return type == TPM2_HT_POLICY_SESSION && ctx->client_saved;
}

/*
 * The client's handles of one type, ascending from @first, at most @max.
 * Saved sessions are listed under 0x03 with the 0x02 prefix, so handles
 * are ordered and compared with @first on their low 24 bits.
 */
static unsigned int list_handles(struct tpm2_rm_client *c, u32 first,
				 u32 max, u8 *out, bool *more)
{
	u8 type = TPM2_RM_HT(first);
	struct tpm2_rm_ctx *ctx;
	u32 from = first & 0x00FFFFFF;
	unsigned int n = 0;
	u32 h, best;
	bool found;

	*more = false;
	for (;;) {
		found = false;
		best = 0;
		list_for_each_entry(ctx, &c->ctxs, node)
			if (listed_as(ctx, type, &h) &&
			    (h & 0x00FFFFFF) >= from &&
			    (!found || (h & 0x00FFFFFF) < (best & 0x00FFFFFF))) {
				best = h;
				found = true;
			}
		if (!found)
			return n;
		if (n == max) {
			*more = true;
			return n;
		}
		put_unaligned_be32(best, out + 4 * n++);
		from = (best & 0x00FFFFFF) + 1;
	}
}

/*
 * GetCapability(TPM_CAP_HANDLES) for transient objects and sessions shows
 * the client its own handles only: its objects under 0x80, its sessions
 * (loaded or evicted by the resource manager) under 0x02, and sessions it
 * saved itself under 0x03.  Other handle types go to the TPM.
 */
static ssize_t cap_handles(struct tpm2_rm_client *c,
			   const struct tpm2_rm_cmd *cmd, u8 *buf, size_t len,
			   bool *handled)
{
	u32 cap, prop, count;
	unsigned int n;
	bool more;
	u8 type;

	*handled = false;
	if (cmd->size != cmd->params_off + 12)
		return 0;
	cap = get_unaligned_be32(buf + cmd->params_off);
	prop = get_unaligned_be32(buf + cmd->params_off + 4);
	count = get_unaligned_be32(buf + cmd->params_off + 8);
	type = TPM2_RM_HT(prop);
	if (cap != TPM2_CAP_HANDLES || (type != TPM2_HT_TRANSIENT &&
					!tpm2_rm_is_session(prop)))
		return 0;

	*handled = true;
	count = min_t(u32, count, TPM2_RM_MAX_CAP_HANDLES);
	n = list_handles(c, prop, count, buf + TPM_HEADER_SIZE + 9, &more);
	put_unaligned_be16(TPM2_ST_NO_SESSIONS, buf);
	put_unaligned_be32(TPM_HEADER_SIZE + 9 + 4 * n, buf + 2);
	put_unaligned_be32(0, buf + 6);
	buf[TPM_HEADER_SIZE] = more;
	put_unaligned_be32(TPM2_CAP_HANDLES, buf + TPM_HEADER_SIZE + 1);
	put_unaligned_be32(n, buf + TPM_HEADER_SIZE + 5);
	return TPM_HEADER_SIZE + 9 + 4 * n;
}

static void learn_room(struct tpm2_rm *rm)
{
	u32 v;

	rm->room_known = true;
	rm->max_objects = 3;
	rm->max_sessions = 3;
	rm->max_active = 64;
	rm->gap_max = 0xFF;
	if (!tpm2_rm_get_property(rm, TPM2_PT_HR_TRANSIENT_MIN, &v) && v)
		rm->max_objects = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_HR_LOADED_MIN, &v) && v)
		rm->max_sessions = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_ACTIVE_SESSIONS_MAX, &v) && v)
		rm->max_active = v;
	if (!tpm2_rm_get_property(rm, TPM2_PT_CONTEXT_GAP_MAX, &v) && v)
		rm->gap_max = v;
}

/*
 * A client loads a session context it saved, which the resource manager
 * may have refreshed since (regap): load the refreshed one.
 */
static void refreshed_context(struct tpm2_rm *rm, struct tpm2_rm_cmd *cmd,
			      u8 *buf, size_t bufsiz, u32 *len)
{
	u32 body;

	if (cmd->cc != TPM2_CC_CONTEXT_LOAD || cmd->nr_sessions ||
	    !tpm2_rm_substitute_blob(rm, buf + cmd->params_off,
				     *len - cmd->params_off,
				     bufsiz - cmd->params_off, &body))
		return;
	*len = cmd->params_off + body;
	cmd->size = *len;
	put_unaligned_be32(*len, buf + 2);
}

/* Put the client's handles back, so the command can run again. */
static void unmap_handles(const struct tpm2_rm_cmd *cmd,
			  const struct rm_refs *refs, u8 *buf)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_handles; i++)
		if (refs->h[i] && refs->h[i]->kind != TPM2_RM_SESSION)
			put_unaligned_be32(refs->h[i]->vhandle,
					   buf + TPM_HEADER_SIZE + 4 * i);
}

static ssize_t run_command(struct tpm2_rm_client *c, u8 *buf, size_t bufsiz)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_cmd cmd;
	struct rm_refs refs;
	bool handled;
	ssize_t ret;
	u32 attrs, len, h, rc = 0;
	int err = 0;

	tpm2_rm_sync_tpm(rm);
	if (!c->wait_ticket) {
		rm->stats.commands++;
		c->commands++;
	}
	rm->clock++;
	len = get_unaligned_be32(buf + 2);
	if (len < TPM_HEADER_SIZE || len > bufsiz)
		return rm_refuse(rm, buf, TPM2_RC_COMMAND_SIZE);
	if (rm->ops->cc_attrs(rm, get_unaligned_be32(buf + 6), &attrs))
		return rm_refuse(rm, buf, TPM2_RC_COMMAND_CODE);
	rc = tpm2_rm_parse_cmd(buf, len, attrs, &cmd);
	if (rc)
		return rm_refuse(rm, buf, rc);
	if (!rm->room_known)
		learn_room(rm);
	refreshed_context(rm, &cmd, buf, bufsiz, &len);

	if (cmd.cc == TPM2_CC_FLUSH_CONTEXT)
		return flush_context(c, &cmd, buf, len);
	if (cmd.cc == TPM2_CC_GET_CAPABILITY) {
		ret = cap_handles(c, &cmd, buf, len, &handled);
		if (handled)
			return ret;
	}

	err = resolve(c, &cmd, &refs, &rc);
	if (err)
		return err;
	if (rc)
		return rm_refuse(rm, buf, rc);

	if (cmd.cc == TPM2_CC_START_AUTH_SESS) {
		err = tpm2_rm_admit(c);
		if (err == TPM2_RM_WAIT)
			return err;
		if (err)
			return rm_refuse(rm, buf, err);
	}
	if (cmd.cc == TPM2_CC_CONTEXT_LOAD && cmd.size >= cmd.params_off + 12) {
		/* TPMS_CONTEXT: sequence u64, then savedHandle */
		h = get_unaligned_be32(buf + cmd.params_off + 8);
		rc = tpm2_rm_is_session(h) ? tpm2_rm_admit_load(c, h) : 0;
		if (rc)
			return rm_refuse(rm, buf, rc);
	}
	if (cmd.cc == TPM2_CC_CONTEXT_SAVE && refs.h[0] &&
	    refs.h[0]->kind == TPM2_RM_SESSION)
		tpm2_rm_regap(rm, false);

	pin_refs(&refs, true);
	rc = load_refs(rm, &cmd, buf, &refs, &err);
	if (err || rc) {
		ret = err ? err : rm_refuse(rm, buf, rc);
		goto out;
	}
	for (unsigned int i = 0; i < cmd.nr_handles; i++)
		if (refs.h[i] && refs.h[i]->kind != TPM2_RM_SESSION)
			put_unaligned_be32(refs.h[i]->phandle,
					   buf + TPM_HEADER_SIZE + 4 * i);

	ret = send_cmd(rm, cmd.cc, buf, len);
	if (ret == TPM2_RM_WAIT) {
		unmap_handles(&cmd, &refs, buf);
		c->wait_ms = 100;
		goto out;
	}
	if (ret < 0)
		goto out;
	rc = commit(c, &cmd, &refs, buf, ret);
	if (rc)
		ret = rm_refuse(rm, buf, rc);
out:
	pin_refs(&refs, false);
	return ret;
}

/**
 * tpm2_rm_command() - run one client command
 * @c:		the client
 * @buf:	the command; the response replaces it
 * @bufsiz:	size of @buf (at least TPM_BUFSIZE)
 *
 * Return: the length of the response in @buf, or a negative errno:
 * -EINVAL for a virtual handle the client does not hold (as before this
 * resource manager), or the transport's error.  %TPM2_RM_WAIT: the
 * command waits for a session; @buf still holds it.  Release the chip,
 * sleep on @c->waitq for up to @c->wait_ms and call again, or call
 * tpm2_rm_wait_cancel() instead.
 */
ssize_t tpm2_rm_command(struct tpm2_rm_client *c, u8 *buf, size_t bufsiz)
{
	ssize_t ret;

	bool sas = bufsiz >= TPM_HEADER_SIZE &&
		   get_unaligned_be32(buf + 6) == TPM2_CC_START_AUTH_SESS;
	u32 rc;
	u64 sent = c->rm->stats.tpm_commands;

	c->rm->cur_client = c->id;
	ret = run_command(c, buf, bufsiz);
	c->rm->cur_client = 0;
	c->tpm_commands += c->rm->stats.tpm_commands - sent;
	if (ret == TPM2_RM_WAIT)
		return ret;
	rc = ret >= TPM_HEADER_SIZE ? get_unaligned_be32(buf + 6) : (u32)ret;
	tpm2_rm_claim(c, sas && !rc);
	tpm2_rm_admit_done(c, rc);
	return ret;
}

/* ---- lifetimes ---- */

/**
 * tpm2_rm_alloc() - create the resource manager of a chip
 * @ops:	transport
 * @priv:	for @ops
 *
 * Return: the resource manager, or NULL.
 */
struct tpm2_rm *tpm2_rm_alloc(const struct tpm2_rm_ops *ops, void *priv)
{
	struct tpm2_rm *rm = kzalloc(sizeof(*rm), GFP_KERNEL);

	if (!rm)
		return NULL;
	rm->ops = ops;
	rm->priv = priv;
	INIT_LIST_HEAD(&rm->clients);
	INIT_LIST_HEAD(&rm->objects);
	INIT_LIST_HEAD(&rm->sessions);
	INIT_LIST_HEAD(&rm->orphans);
	hash_init(rm->users);
	INIT_LIST_HEAD(&rm->holders);
	rm->ranked = RB_ROOT;
	INIT_LIST_HEAD(&rm->wait_holders);
	INIT_LIST_HEAD(&rm->wait_new);
	INIT_LIST_HEAD(&rm->claimants);
	rm->io = kmalloc(TPM_BUFSIZE, GFP_KERNEL);
	rm->copy = kmalloc(TPM_BUFSIZE, GFP_KERNEL);
	if (!rm->io || !rm->copy) {
		tpm2_rm_free(rm);
		return NULL;
	}
	return rm;
}

/**
 * tpm2_rm_free() - free a chip's resource manager
 * @rm:		resource manager with no clients left, or NULL
 *
 * Orphaned sessions are forgotten without TPM commands: the chip is gone.
 */
void tpm2_rm_free(struct tpm2_rm *rm)
{
	struct tpm2_rm_ctx *ctx, *tmp;

	if (!rm)
		return;
	list_for_each_entry_safe(ctx, tmp, &rm->orphans, node)
		tpm2_rm_drop_ctx(rm, ctx);
	kfree(rm->io);
	kfree(rm->copy);
	kfree(rm);
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
