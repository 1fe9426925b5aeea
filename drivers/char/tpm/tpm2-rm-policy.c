// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: which resident context to evict.
 *
 * This file decides and does nothing else: it takes the resource
 * manager's books and returns a decision, sends no command and changes
 * no state but the use history it is given.  tpm2-rm-cache.c acts on its
 * decisions; the KUnit suite replays access traces against it and
 * against Belady's offline optimum (tpm2-rm-policy-test.c).
 *
 * Policy: evict the context whose next use is predicted furthest away
 * (an online estimate of Belady's MIN).  Time is the chip's command
 * clock (&tpm2_rm.clock, one tick per client command).  Each context
 * keeps the average gap between its uses, weighted 3/4 toward the past;
 * its next use is predicted at its last use plus that gap.
 *  - A context used only once so far (a new key, a scan passing through)
 *    has no gap: its next use is unknown and it goes first, the least
 *    recently used of those first.
 *  - A context whose predicted use has passed (a burst that ended, a
 *    client gone idle) is predicted to stay idle as long again: now plus
 *    its idle time, which orders idle contexts as LRU does.
 *  - Ties go to the least recently used.
 *
 * Why this and not LRU, 2Q, ARC or CLOCK-Pro: on the TPM's 3 + 3 slots,
 * LRU misses every access of a loop longer than the slots (clients
 * taking turns) and lets every scan push out a hot context.  A reuse
 * distance predictor keeps part of a loop resident (as LIRS does) and
 * keeps hot contexts through scans (as 2Q and ARC do), and where only
 * recency matters it falls back to LRU.  Measured on traces of 3 slots
 * (TPM commands per sign, one key and one session per client; MIN in
 * brackets): 8 clients taking turns 3.88 (3.87, LRU 5.00); 2 busy
 * clients beside a scan of 12: 3.02 (3.01, LRU 5.00); Zipf over 16:
 * 3.12 (2.79, LRU 3.57); bursts of 4: 2.00 (1.77, LRU 2.00); uniform
 * random over 4 to 12: within 1% of LRU, where no online policy does
 * better.  It loses to LRU where a working set drifts (4 of 20, moving
 * by one every 50 commands: 2.14 against 2.08): a context that just
 * left the set keeps its short gap until it is overdue.
 * Objects and sessions are decided alike, each kind in its own slots.
 *
 * Cost: one pass over the resident contexts of one kind (a handful).
 *
 * Locking: the chip's tpm_mutex, as everything in tpm2-rm.h.
 */
#include <linux/limits.h>
#include <linux/list.h>
#include "tpm2-rm.h"

/* Gaps are kept in sixteenths of a tick, for a smooth average. */
#define GAP_SHIFT	4

/**
 * tpm2_rm_policy_used() - a command named @ctx at chip clock @now
 * @ctx:	the context
 * @now:	&tpm2_rm.clock of the command
 */
void tpm2_rm_policy_used(struct tpm2_rm_ctx *ctx, u64 now)
{
	u64 gap;

	if (ctx->last_use && now > ctx->last_use) {
		gap = (now - ctx->last_use) << GAP_SHIFT;
		ctx->gap = ctx->gap ? (3 * ctx->gap + gap) / 4 : gap;
	}
	ctx->last_use = now;
}

/* When @ctx is predicted to be used next; U64_MAX if unknown. */
static u64 next_use(const struct tpm2_rm_ctx *ctx, u64 now)
{
	u64 next;

	if (!ctx->gap)
		return U64_MAX;
	next = ctx->last_use + (ctx->gap >> GAP_SHIFT);
	if (next < now)
		next = now + (now - ctx->last_use);
	return next;
}

/**
 * tpm2_rm_policy_victim() - the resident context to evict
 * @resident:	resident contexts of one kind, linked by &tpm2_rm_ctx.lru,
 *		least recently used first
 * @now:	the chip's clock
 *
 * Return: the unpinned context whose next use is predicted last (the
 * least recently used of those tied), or NULL if all are pinned.
 */
struct tpm2_rm_ctx *tpm2_rm_policy_victim(struct list_head *resident, u64 now)
{
	struct tpm2_rm_ctx *ctx, *victim = NULL;
	u64 next, latest = 0;

	list_for_each_entry(ctx, resident, lru) {
		if (ctx->pinned)
			continue;
		next = next_use(ctx, now);
		if (!victim || next > latest) {
			victim = ctx;
			latest = next;
		}
	}
	return victim;
}
