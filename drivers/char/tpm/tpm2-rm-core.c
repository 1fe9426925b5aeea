// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: one client command, from the bytes a client
 * wrote to the response it reads.  Each step calls only downward:
 *
 *  1. Parse it (tpm2-rm-cmd.c); refuse what does not parse.
 *  2. Resolve every handle it names against the client's own table
 *     (tpm2-rm-table.c): no client reaches another's objects or sessions.
 *  3. Decide: commands that name contexts rather than use them are
 *     answered or rewritten (tpm2-rm-virt.c); a new session is admitted
 *     or waits (tpm2-rm-sessions.c); what to evict for room is chosen by
 *     tpm2-rm-policy.c through tpm2-rm-cache.c.
 *  4. Do: pin what it names, make room, load what is not resident, put
 *     the TPM's handles in the handle area and send it (tpm2-rm-io.c is
 *     the only code that sends); on OBJECT/SESSION_MEMORY (something
 *     outside the resource manager took a slot) evict one more and repeat.
 *  5. Commit what the response says: new objects and sessions, sessions
 *     the TPM ended, sequences it flushed, contexts the client saved.
 *
 * Failures the resource manager decides are answered as ordinary
 * responses with a code in the resource-manager layer (11 << 16):
 *   RM | TPM_RC_HANDLE + handle/session number: not this client's session
 *   RM | TPM_RC_REFERENCE_H0 + n / _S0 + n: the context behind handle or
 *        session n could not be loaded again (lost, e.g. by a TPM reset)
 *   RM | any other TPM code: what the TPM answered to a ContextLoad the
 *        command needed (e.g. TPM_RC_INITIALIZE: the TPM was reset and
 *        waits for its Startup, tpm2-rm-reset.c); nothing is lost
 *   RM | TPM_RC_OBJECT_HANDLES (a session: _SESSION_HANDLES): over the
 *        per-client bound of contexts
 *   RM | TPM_RC_MEMORY: the kernel could not allocate memory
 *   RM | TPM_RC_COMMAND_CODE, _COMMAND_SIZE, _BAD_TAG, _INSUFFICIENT,
 *        _AUTHSIZE: the command is unknown or malformed
 *   RM | TPM_RC_AUTH_CONTEXT: FlushContext, ContextSave, ContextLoad or
 *        GetCapability(HANDLES) carrying sessions; RM | TPM_RC_SIZE: the
 *        last with trailing bytes (tpm2-rm-virt.c)
 * Locking: the caller holds the chip's tpm_mutex (see tpm2-rm.h).
 */
#include <linux/slab.h>
#include "tpm.h"
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"

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
		if (tpm2_rm_is_session(tpm2_rm_saved_handle(cmd, buf)))
			(*sessions)++;
		else
			(*objects)++;
	} else if (tpm2_rm_cc_takes_object(cmd->cc, cmd->attrs)) {
		(*objects)++;
	}
}

static u32 load_refs(struct tpm2_rm *rm, const struct tpm2_rm_cmd *cmd,
		     const u8 *buf, struct tpm2_rm_refs *refs, int *err)
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
		if (tpm2_rm_reclaim_orphan(rm, 0))
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
	rm->copy_len = len;
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

/* A context the TPM just created or loaded enters the client's table. */
static u32 adopt_new_handle(struct tpm2_rm_client *c,
			    const struct tpm2_rm_cmd *cmd, const u8 *cmdbuf,
			    u8 *buf, u32 handle)
{
	struct tpm2_rm *rm = c->rm;
	enum tpm2_rm_kind kind = TPM2_RM_OBJECT;
	struct tpm2_rm_ctx *ctx;

	if (tpm2_rm_is_session(handle)) {
		if (cmd->cc == TPM2_CC_START_AUTH_SESS &&
		    !tpm2_rm_avoid_tombstone(c, buf, &handle))
			return TPM2_RC_SESSION_HANDLES;
		ctx = tpm2_rm_claim_session(c, handle);
	} else if (TPM2_RM_HT(handle) == TPM2_HT_TRANSIENT) {
		/* HashSequenceStart, HMAC_Start; saved from 0x80000001 */
		if (cmd->cc == TPM2_CC_HASH_SEQUENCE_START || cmd->cc == 0x15B ||
		    tpm2_rm_saved_handle(cmd, cmdbuf) == 0x80000001)
			kind = TPM2_RM_SEQUENCE;
		ctx = tpm2_rm_new_ctx(c, kind, 0);
	} else {
		return 0;	/* a persistent or NV handle: nothing to track */
	}

	if (IS_ERR(ctx)) {
		tpm2_rm_flush(rm, handle);
		if (PTR_ERR(ctx) != -EDQUOT)
			return TPM2_RC_MEMORY;
		return tpm2_rm_is_session(handle) ? TPM2_RC_SESSION_HANDLES :
						    TPM2_RC_OBJECT_HANDLES;
	}
	tpm2_rm_set_resident(rm, ctx, handle);
	tpm2_rm_touch(rm, ctx);
	if (cmd->cc == TPM2_CC_CONTEXT_LOAD)
		tpm2_rm_context_load_done(ctx, cmd, cmdbuf);
	put_unaligned_be32(ctx->vhandle, buf + TPM_HEADER_SIZE);
	return 0;
}

static u32 commit(struct tpm2_rm_client *c, const struct tpm2_rm_cmd *cmd,
		  struct tpm2_rm_refs *refs, u8 *buf, size_t len)
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
			tpm2_rm_drop_ref(rm, refs, ctx);
		else
			tpm2_rm_forget_blob(ctx);
	}

	/* continueSession clear on success: the TPM ended the session */
	for (i = 0; i < rsp.nr_sessions; i++) {
		ctx = refs->s[i];
		if (ctx && !(rsp.session_attrs[i] & TPM2_SA_CONTINUE_SESSION))
			tpm2_rm_drop_ref(rm, refs, ctx);
	}

	if (cmd->cc == TPM2_CC_CONTEXT_SAVE && refs->h[0])
		return tpm2_rm_context_save_done(rm, refs->h[0], buf, len);

	if (rsp.has_handle)
		return adopt_new_handle(c, cmd, rm->copy, buf, rsp.handle);
	return 0;
}

/*
 * Steps 1 and 3 before anything is loaded: parse, and answer what the
 * resource manager answers itself.  Return: 0 to go on, or what to
 * return for the command (*@cmd parsed, *@len its length, on 0).
 */
static ssize_t parse(struct tpm2_rm_client *c, u8 *buf, size_t bufsiz,
		     struct tpm2_rm_cmd *cmd, u32 *len)
{
	struct tpm2_rm *rm = c->rm;
	bool handled;
	ssize_t ret;
	u32 attrs, rc;

	*len = get_unaligned_be32(buf + 2);
	if (*len < TPM_HEADER_SIZE || *len > bufsiz)
		return tpm2_rm_refuse(rm, buf, TPM2_RC_COMMAND_SIZE);
	if (rm->ops->cc_attrs(rm, get_unaligned_be32(buf + 6), &attrs))
		return tpm2_rm_refuse(rm, buf, TPM2_RC_COMMAND_CODE);
	rc = tpm2_rm_parse_cmd(buf, *len, attrs, cmd);
	if (rc)
		return tpm2_rm_refuse(rm, buf, rc);
	if (!rm->room_known)
		tpm2_rm_learn_room(rm);

	/* the TPM allows no session here; nor would a made-up answer carry one */
	if (cmd->tag == TPM2_ST_SESSIONS &&
	    (cmd->cc == TPM2_CC_FLUSH_CONTEXT ||
	     cmd->cc == TPM2_CC_CONTEXT_SAVE ||
	     cmd->cc == TPM2_CC_CONTEXT_LOAD))
		return tpm2_rm_refuse(rm, buf, TPM2_RC_AUTH_CONTEXT);
	if (cmd->cc == TPM2_CC_FLUSH_CONTEXT)
		return tpm2_rm_flush_context(c, cmd, buf, *len);
	if (cmd->cc == TPM2_CC_GET_CAPABILITY) {
		ret = tpm2_rm_get_capability(c, cmd, buf, &handled);
		if (handled)
			return ret;
	}
	return 0;
}

/*
 * Step 3 for what the command names: may it run now?  Return: 0, a
 * response code to refuse it with, or %TPM2_RM_WAIT.
 */
static int decide(struct tpm2_rm_client *c, struct tpm2_rm_cmd *cmd,
		  struct tpm2_rm_refs *refs, u8 *buf, size_t bufsiz, u32 *len)
{
	switch (cmd->cc) {
	case TPM2_CC_START_AUTH_SESS:
		return tpm2_rm_admit(c);
	case TPM2_CC_CONTEXT_LOAD:
		return tpm2_rm_context_load_begin(c, cmd, buf, bufsiz, len);
	case TPM2_CC_CONTEXT_SAVE:
		tpm2_rm_context_save_begin(c->rm, refs->h[0]);
		break;
	}
	return 0;
}

/*
 * Making room or loading failed: only a failing transport reaches
 * write() as an errno, as without the resource manager; the kernel out
 * of memory, or a context it could not keep, is an answer.
 */
static ssize_t errno_rsp(struct tpm2_rm *rm, u8 *buf, int err)
{
	if (err == -ENOMEM || err == -ENODATA || err == -E2BIG)
		return tpm2_rm_refuse(rm, buf, TPM2_RC_MEMORY);
	return err;
}

static ssize_t run_command(struct tpm2_rm_client *c, u8 *buf, size_t bufsiz)
{
	struct tpm2_rm *rm = c->rm;
	struct tpm2_rm_refs refs;
	struct tpm2_rm_cmd cmd;
	u32 len, rc = 0;
	ssize_t ret;
	int err = 0;

	tpm2_rm_sync_tpm(rm);
	if (!c->wait_ticket) {
		rm->stats.commands++;
		c->commands++;
	}
	rm->clock++;
	ret = parse(c, buf, bufsiz, &cmd, &len);
	if (ret)
		return ret;

	err = tpm2_rm_resolve(c, &cmd, &refs, &rc);
	if (err)
		return err;
	if (rc)
		return tpm2_rm_refuse(rm, buf, rc);
	err = decide(c, &cmd, &refs, buf, bufsiz, &len);
	if (err == TPM2_RM_WAIT)
		return err;
	if (err)
		return tpm2_rm_refuse(rm, buf, err);

	/* step 4 */
	tpm2_rm_pin_refs(&refs, true);
	rc = load_refs(rm, &cmd, buf, &refs, &err);
	if (err || rc) {
		ret = err ? errno_rsp(rm, buf, err) : tpm2_rm_refuse(rm, buf, rc);
		goto out;
	}
	tpm2_rm_map_handles(&cmd, &refs, buf, true);
	ret = send_cmd(rm, cmd.cc, buf, len);
	if (ret == TPM2_RM_WAIT) {
		tpm2_rm_map_handles(&cmd, &refs, buf, false);
		c->wait_ms = 100;
		goto out;
	}
	if (ret < 0)
		goto out;

	/* step 5 */
	rc = commit(c, &cmd, &refs, buf, ret);
	if (rc)
		ret = tpm2_rm_refuse(rm, buf, rc);
out:
	tpm2_rm_pin_refs(&refs, false);
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
	/* it may hold passwords and sensitive data (Create, Import) */
	memzero_explicit(c->rm->copy, c->rm->copy_len);
	c->rm->copy_len = 0;
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
	rm->copy = kzalloc(TPM_BUFSIZE, GFP_KERNEL);
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
	kfree_sensitive(rm->copy);
	kfree(rm);
}

