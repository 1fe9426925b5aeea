// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: commands that do not come through it.
 *
 * The kernel's own callers (IMA, trusted keys, the hwrng, the kernel's
 * HMAC sessions) and clients of the raw /dev/tpmN do not know what the
 * resource manager keeps in the TPM.  Before their commands it makes
 * the room they need, or (for /dev/tpmN) evicts everything; after them
 * it frees what they ran out of.  The chip glue (tpm2-space.c) calls
 * these; they call the layers below and nothing above.
 *
 * Locking: the chip's tpm_mutex, see tpm2-rm.h.
 */
#include <linux/tpm.h>
#include <linux/unaligned.h>
#include "tpm2-rm.h"
#include "tpm2-rm-io.h"

static struct tpm2_rm_ctx *lru_victim(struct list_head *list)
{
	struct tpm2_rm_ctx *ctx;

	list_for_each_entry(ctx, list, lru)
		if (!ctx->pinned)
			return ctx;
	return NULL;
}

/**
 * tpm2_rm_evict_all() - evict every unpinned resident context
 * @rm:		resource manager
 *
 * Used before a command that does not come through the resource manager
 * and may look at or take every slot (/dev/tpmN), and before suspend.
 * It goes on after an error; a context it could not save is marked lost
 * rather than left mapped to a TPM handle that may change meaning.
 *
 * Return: 0 or the first error.
 */
int tpm2_rm_evict_all(struct tpm2_rm *rm)
{
	struct list_head *lists[] = { &rm->objects, &rm->sessions };
	struct tpm2_rm_ctx *ctx;
	int rc, first = 0;
	unsigned int i;

	tpm2_rm_sync_tpm(rm);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		while ((ctx = lru_victim(lists[i]))) {
			rc = tpm2_rm_evict(rm, ctx);
			if (rc == TPM2_RC_CONTEXT_GAP && !tpm2_rm_regap(rm, true))
				rc = tpm2_rm_evict(rm, ctx);
			if (!rc)
				continue;
			first = first ?: rc;
			/*
			 * Whatever stays in the TPM now may be gone after
			 * (suspend) or reused by someone else (/dev/tpmN):
			 * never map a handle onto it again, and take it out
			 * of the TPM (tpm2_rm_flush() retries that later if
			 * it fails), so that no slot is lost.  A TPM that
			 * forgot everything can do neither: tpm2-rm-reset.c
			 * learns what it kept.
			 */
			if (!ctx->resident)
				continue;
			if (rm->tpm_lost) {
				tpm2_rm_clear_resident(rm, ctx);
				if (!ctx->blob_valid || ctx->kind == TPM2_RM_SESSION)
					ctx->dead = true;
				continue;
			}
			tpm2_rm_flush(rm, ctx->phandle);
			if (ctx->kind == TPM2_RM_SESSION && ctx->client) {
				tpm2_rm_session_lost(rm, ctx);
			} else if (ctx->kind == TPM2_RM_SESSION) {
				tpm2_rm_drop_ctx(rm, ctx);
			} else {
				tpm2_rm_clear_resident(rm, ctx);
				if (!ctx->blob_valid)
					ctx->dead = true;
			}
		}
	}
	return first;
}

/**
 * tpm2_rm_foreign_room() - make room for a command the kernel itself sends
 * @rm:		resource manager
 * @buf:	the command
 * @len:	its length
 *
 * Kernel callers (IMA, trusted keys, the kernel's HMAC session, hwrng)
 * do not know what clients keep resident.  A command that creates an
 * object or session, or names a persistent handle (the TPM copies it
 * into an object slot), gets the slots it needs.
 */
void tpm2_rm_foreign_room(struct tpm2_rm *rm, const u8 *buf, size_t len)
{
	unsigned int objects = 0, sessions = 0, nr, i;
	u32 cc, attrs;

	tpm2_rm_sync_tpm(rm);
	if (len < TPM_HEADER_SIZE || (!rm->nr_objects && !rm->nr_sessions))
		return;
	cc = be32_to_cpup((__be32 *)(buf + 6));
	/*
	 * Shutdown takes no slot, and is sent at chip removal after
	 * device_del() freed the chip's command table (devres): no lookup.
	 */
	if (cc == TPM2_CC_SHUTDOWN || rm->ops->cc_attrs(rm, cc, &attrs))
		return;
	nr = min_t(unsigned int, tpm2_rm_cc_handles(attrs),
		   (len - TPM_HEADER_SIZE) / 4);
	for (i = 0; i < nr; i++)
		if (buf[TPM_HEADER_SIZE + 4 * i] == TPM2_HT_PERSISTENT)
			objects++;
	if (cc == TPM2_CC_START_AUTH_SESS)
		sessions++;
	else if (cc == TPM2_CC_CONTEXT_LOAD && len >= TPM_HEADER_SIZE + 12 &&
		 /* TPMS_CONTEXT: sequence u64, then savedHandle */
		 tpm2_rm_is_session(get_unaligned_be32(buf + TPM_HEADER_SIZE + 8)))
		sessions++;
	else if (cc == TPM2_CC_CONTEXT_LOAD)
		objects++;
	else if (tpm2_rm_cc_takes_object(cc, attrs))
		objects++;
	tpm2_rm_room(rm, objects, sessions);
}

/**
 * tpm2_rm_foreign_retry_rc() - free what a kernel command ran out of
 * @rm:		resource manager
 * @cc:		the command's code
 * @rc:		the TPM's response to the command
 *
 * Kernel callers cannot wait for a client: an object or session slot is
 * freed by eviction, a session handle by reclaiming a handed-off session
 * or, failing that, by revoking a client's session (tpm2-rm-sessions.c).
 * The response code is also one of those that tell whether the TPM was
 * reset (tpm2_rm_saw_rc()).
 *
 * Return: true if the command is worth sending again.
 */
bool tpm2_rm_foreign_retry_rc(struct tpm2_rm *rm, u32 cc, u32 rc)
{
	tpm2_rm_saw_rc(rm, cc, rc);
	if (rm->tpm_lost)
		return false;
	switch (rc) {
	case TPM2_RC_OBJECT_MEMORY:
	case TPM2_RC_SESSION_MEMORY:
		return !tpm2_rm_evict_one_more(rm, rc == TPM2_RC_SESSION_MEMORY);
	case TPM2_RC_SESSION_HANDLES:
		return tpm2_rm_reclaim_orphan(rm, 0) ||
		       tpm2_rm_revoke_for(rm, NULL);
	}
	return false;
}
