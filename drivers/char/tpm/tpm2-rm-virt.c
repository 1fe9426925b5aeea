// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: the commands it virtualizes, those that
 * name contexts rather than use them.
 *
 *  FlushContext	of the client's own handles only; an object that is
 *			not resident is forgotten without a TPM command
 *  GetCapability	TPM_CAP_HANDLES of transient objects and sessions
 *			lists the client's own handles only, without the TPM
 *  ContextSave		of a session: the client then holds its only
 *			loadable context; the resource manager keeps a copy,
 *			to refresh it (context gap) and reclaim it
 *  ContextLoad		of a session the client saved: bounded like a new
 *			session, and given the refreshed context if the
 *			resource manager refreshed it since
 *  StartAuthSession	never returns a handle value the client still holds
 *			a revoked entry for (it has not been told yet)
 *
 * The core (tpm2-rm-core.c) calls these at the step of a command they
 * change; they decide against the client's table (tpm2-rm-table.c) and
 * the session books (tpm2-rm-sessions.c) and send only through
 * tpm2-rm-io.c.
 *
 * Locking: the caller holds the chip's tpm_mutex (see tpm2-rm.h).
 */
#include <linux/slab.h>
#include "tpm.h"
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"

#define TPM2_RM_MAX_CAP_HANDLES	254

static size_t ok_rsp(u8 *buf)
{
	return tpm2_rm_error_rsp(buf, 0);
}

/**
 * tpm2_rm_flush_context() - FlushContext of a client's handle
 * @c:		the client
 * @cmd:	the parsed command
 * @buf:	the command; the response replaces it
 * @len:	its length
 *
 * Handles that are not the client's transient objects or sessions go to
 * the TPM as they are.  An object that is not resident costs no TPM
 * command.
 *
 * Return: the response length, -EINVAL for an object handle the client
 * does not hold, or the transport's errno.
 */
ssize_t tpm2_rm_flush_context(struct tpm2_rm_client *c,
			      const struct tpm2_rm_cmd *cmd, u8 *buf,
			      size_t len)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_ctx *ctx;
	u32 h = cmd->handles[0];
	ssize_t ret;
	u32 rc;

	if (!tpm2_rm_is_session(h) && TPM2_RM_HT(h) != TPM2_HT_TRANSIENT)
		return tpm2_rm_xmit(rm, buf, len);
	ctx = tpm2_rm_find_ctx(c, h);
	if (!ctx) {
		if (TPM2_RM_HT(h) == TPM2_HT_TRANSIENT)
			return -EINVAL;
		return tpm2_rm_refuse(rm, buf, TPM2_RC_HANDLE | TPM2_RC_P |
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

/**
 * tpm2_rm_get_capability() - GetCapability(TPM_CAP_HANDLES) of a client
 * @c:		the client
 * @cmd:	the parsed command
 * @buf:	the command; the response replaces it if @handled
 * @handled:	set if answered here
 *
 * For transient objects and sessions, the client sees its own handles
 * only: its objects under 0x80, its sessions (loaded or evicted by the
 * resource manager) under 0x02, and sessions it saved itself under 0x03.
 * Such a query with trailing bytes is refused with RM|TPM_RC_SIZE, one
 * carrying sessions with RM|TPM_RC_AUTH_CONTEXT.  Other capabilities and
 * handle types go to the TPM.
 *
 * Return: the response length if @handled.
 */
ssize_t tpm2_rm_get_capability(struct tpm2_rm_client *c,
			       const struct tpm2_rm_cmd *cmd, u8 *buf,
			       bool *handled)
{
	u32 cap, prop, count;
	unsigned int n;
	bool more;
	u8 type;

	*handled = false;
	if (cmd->size < cmd->params_off + 12)
		return 0;
	cap = get_unaligned_be32(buf + cmd->params_off);
	prop = get_unaligned_be32(buf + cmd->params_off + 4);
	count = get_unaligned_be32(buf + cmd->params_off + 8);
	type = TPM2_RM_HT(prop);
	if (cap != TPM2_CAP_HANDLES || (type != TPM2_HT_TRANSIENT &&
					!tpm2_rm_is_session(prop)))
		return 0;

	/*
	 * Never to the TPM, which would list everybody's handles.  The
	 * answer is made here, so it cannot carry a session's response
	 * (an audit session's digest, its nonces).
	 */
	*handled = true;
	if (cmd->size != cmd->params_off + 12)
		return tpm2_rm_refuse(c->rm, buf, TPM2_RC_SIZE);
	if (cmd->nr_sessions)
		return tpm2_rm_refuse(c->rm, buf, TPM2_RC_AUTH_CONTEXT);
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

/*
 * A client saved a session: it holds the only loadable context.  Keep a
 * copy, so the session can be refreshed (regap) and reclaimed.  Without
 * a copy it could be neither, and once the context gap reached it every
 * session save on the chip would fail: if the copy cannot be made, the
 * save is undone (the session is loaded again from the client's
 * context, which is consumed) and the client told RM|TPM_RC_MEMORY.
 */
static u32 keep_client_save(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			    const u8 *buf, size_t len)
{
	u32 handle;

	tpm2_rm_forget_blob(ctx);
	kfree(ctx->client_blob);
	ctx->client_blob = NULL;
	if (len < TPM_HEADER_SIZE + 18 || len - TPM_HEADER_SIZE > U16_MAX) {
		/* no use keeping what cannot be loaded: end it */
		tpm2_rm_flush(rm, ctx->vhandle);
		tpm2_rm_session_lost(rm, ctx);
		return TPM2_RC_MEMORY;
	}
	ctx->blob = tpm2_rm_dup(buf + TPM_HEADER_SIZE, len - TPM_HEADER_SIZE);
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

/**
 * tpm2_rm_context_save_begin() - before a client's ContextSave is sent
 * @rm:		resource manager
 * @ctx:	the client's entry of the context it saves
 *
 * A session's save is one more step of the context gap: refresh the
 * oldest saved session first if it is due.
 */
void tpm2_rm_context_save_begin(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx)
{
	if (ctx && ctx->kind == TPM2_RM_SESSION)
		tpm2_rm_regap(rm, false);
}

/**
 * tpm2_rm_context_save_done() - a client's ContextSave succeeded
 * @rm:		resource manager
 * @ctx:	the client's entry of the context it saved
 * @buf:	the response
 * @len:	its length
 *
 * A session left the TPM's memory: the client now holds it (see
 * keep_client_save()).  An object's saved context never changes: the
 * client's copy is the resource manager's too, so evicting the object
 * later costs a FlushContext only.
 *
 * Return: 0, or a response code for the client.
 */
u32 tpm2_rm_context_save_done(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			      const u8 *buf, size_t len)
{
	if (ctx->kind == TPM2_RM_SESSION) {
		tpm2_rm_clear_resident(rm, ctx);
		return keep_client_save(rm, ctx, buf, len);
	}
	if (ctx->kind == TPM2_RM_OBJECT && !ctx->blob_valid &&
	    len > TPM_HEADER_SIZE) {
		ctx->blob = tpm2_rm_dup(buf + TPM_HEADER_SIZE,
					len - TPM_HEADER_SIZE);
		ctx->blob_len = len - TPM_HEADER_SIZE;
		ctx->blob_valid = !!ctx->blob;
	}
	return 0;
}

/**
 * tpm2_rm_context_load_begin() - before a client's ContextLoad is sent
 * @c:		the client
 * @cmd:	the parsed command; its size is updated
 * @buf:	the command
 * @bufsiz:	size of @buf
 * @len:	the command's length; updated
 *
 * A session is a new one to the client's bounds (a hand-off, or its own
 * save).  A session context the client saved, which the resource manager
 * refreshed since (context gap), is replaced by the refreshed one.
 *
 * Return: 0, or a response code for the client.
 */
u32 tpm2_rm_context_load_begin(struct tpm2_rm_client *c,
			       struct tpm2_rm_cmd *cmd, u8 *buf, size_t bufsiz,
			       u32 *len)
{
	u32 h = tpm2_rm_saved_handle(cmd, buf), body, rc;

	if (!tpm2_rm_is_session(h))
		return 0;
	/* TPMS_CONTEXT: sequence first (tpm2_rm_saved_handle() checked it) */
	if (tpm2_rm_was_reclaimed(c->rm, h,
				  get_unaligned_be64(buf + cmd->params_off)))
		return TPM2_RC_HANDLE | TPM2_RC_P | (1 << TPM2_RC_N_SHIFT);
	rc = tpm2_rm_admit_load(c, h);
	if (rc)
		return rc;
	if (cmd->nr_sessions ||
	    !tpm2_rm_substitute_blob(c->rm, buf + cmd->params_off,
				     *len - cmd->params_off,
				     bufsiz - cmd->params_off, &body))
		return 0;
	*len = cmd->params_off + body;
	cmd->size = *len;
	put_unaligned_be32(*len, buf + 2);
	return 0;
}

/**
 * tpm2_rm_context_load_done() - a client's ContextLoad succeeded
 * @ctx:	the client's new entry
 * @cmd:	the parsed command
 * @cmdbuf:	the command
 *
 * The context just loaded is the one to save, until the object or
 * sequence is used (an object's never changes; a sequence's changes
 * with each use, tpm2-rm-core.c): keep it, so that evicting costs a
 * FlushContext only.  A session's is the client's.
 */
void tpm2_rm_context_load_done(struct tpm2_rm_ctx *ctx,
			       const struct tpm2_rm_cmd *cmd, const u8 *cmdbuf)
{
	u32 len = cmd->size - cmd->params_off;

	if (ctx->kind == TPM2_RM_SESSION)
		return;
	ctx->blob = tpm2_rm_dup(cmdbuf + cmd->params_off, len);
	ctx->blob_len = len;
	ctx->blob_valid = !!ctx->blob;
}

/* Tombstones one StartAuthSession may step over (a TPM Reset makes many). */
#define TPM2_RM_MAX_PARKED	16

/**
 * tpm2_rm_avoid_tombstone() - a new session at a handle value not in use
 * @c:		the client whose StartAuthSession (in @c->rm->copy) succeeded
 * @buf:	its response; replaced by the response that is kept
 * @handle:	the new session's handle; updated
 *
 * The TPM may give the client a session at a handle value the client
 * still holds a revoked entry for, and has not been told.  Keep that
 * session a moment, saved so that it holds the handle value but no
 * session slot, so the TPM picks another value, and repeat
 * StartAuthSession; then end the first one.  A command that carries
 * sessions is never repeated (an audit digest would count it twice, a
 * decrypt or audit session's nonces would roll behind the client's
 * back): the new session takes the revoked entry's place, and the
 * client learns of the revoked one no longer.
 *
 * Return: false if no other handle value could be had; the sessions
 * started meanwhile are ended.
 */
bool tpm2_rm_avoid_tombstone(struct tpm2_rm_client *c, u8 *buf, u32 *handle)
{
	struct tpm2_rm *rm = c->rm;
	u32 parked[TPM2_RM_MAX_PARKED];
	struct tpm2_rm_ctx *old;
	unsigned int n = 0, i;
	bool ok = true;
	u16 blob_len;
	u8 *blob;
	u32 len;

	if (get_unaligned_be16(rm->copy) == TPM2_ST_SESSIONS)
		return true;
	len = get_unaligned_be32(rm->copy + 2);
	while ((old = tpm2_rm_find_ctx(c, *handle)) && old->revoked) {
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
