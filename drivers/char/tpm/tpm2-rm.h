/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager: the state it keeps per chip and per client.
 *
 * Locking: all of it is protected by the chip's tpm_mutex, which every
 * command (a client's, the kernel's, the resource manager's own) holds
 * from tpm_try_get_ops() to tpm_put_ops(); the Shutdown sent at chip
 * removal and system shutdown (tpm_del_char_device(),
 * tpm_class_shutdown()) takes it inside the ops_sem write lock.  A
 * client waiting for a session (tpm2-rm-sessions.c) sleeps on its own
 * &tpm2_rm_client.waitq with the mutex released and looks at nothing
 * until it holds the mutex again; only @wake_seq is read without the
 * mutex.  The KUnit suite,
 * which has no chip, runs single-threaded.
 */
#ifndef __TPM2_RM_H__
#define __TPM2_RM_H__

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include "tpm2-rm-cmd.h"

struct tpm2_rm;

/* Resource-manager layer of a response code (TSS2_RESMGR_TPM_RC_LAYER). */
#define TPM2_RM_RC(rc)		((rc) | (11 << 16))

/* Response codes (TPM 2.0 Part 2) the resource manager reacts to or uses. */
#define TPM2_RC_P		0x040
#define TPM2_RC_FMT1		0x080
#define TPM2_RC_S		0x800
#define TPM2_RC_N_SHIFT		8
#define TPM2_RC_CONTEXT_GAP	0x901
#define TPM2_RC_OBJECT_MEMORY	0x902
#define TPM2_RC_MEMORY		0x904
#define TPM2_RC_SESSION_HANDLES	0x905
#define TPM2_RC_OBJECT_HANDLES	0x906
#define TPM2_RC_CANCELED	0x909
#define TPM2_RC_REFERENCE_S0	0x918

/*
 * A ContextLoad answered with a format-one code (integrity, hierarchy,
 * handle: the context itself is bad) condemns the context; a format-zero
 * one (no room, a warning, a TPM waiting for its Startup or in failure
 * mode, an answer made up by the transport) does not.
 */
static inline bool tpm2_rm_load_condemns(int rc)
{
	return rc > 0 && (rc & TPM2_RC_FMT1);
}

/* tpm2_rm_command(): the command must wait for a session; call it again. */
#define TPM2_RM_WAIT		(-EAGAIN)

enum tpm2_rm_kind {
	TPM2_RM_OBJECT,		/* plain object: its saved context never changes */
	TPM2_RM_SEQUENCE,	/* hash or HMAC sequence: changes with each use */
	TPM2_RM_SESSION,	/* auth session: its handle is its name */
};

/**
 * struct tpm2_rm_ctx - one object, sequence or session a client holds
 * @node:	in the owner's @ctxs, or in the chip's orphan list
 * @lru:	in the chip's resident list of its kind, least recently used
 *		first; only while @resident
 * @client:	owner; NULL for an orphan (a session handed off by a client
 *		that closed)
 * @user:	for a session: the user it counts toward (its owner's, or
 *		for an orphan its former owner's)
 * @unode:	for an orphan: in @user's orphan list, oldest first
 * @kind:	see &enum tpm2_rm_kind
 * @vhandle:	the handle the client uses: virtual for objects and
 *		sequences, the TPM's handle for sessions
 * @phandle:	the TPM's handle while @resident
 * @resident:	loaded in the TPM now
 * @pinned:	named by the command in flight; never evicted
 * @client_saved: a session the client ContextSaved: the client holds its
 *		only loadable context, the resource manager none
 * @dead:	its saved context can no longer be loaded (the TPM refused it)
 * @revoked:	a session the resource manager ended to let another client
 *		have its slot; the entry stays, so the owner is told when it
 *		next names the handle, and its handle value is not reused
 *		for the owner until then
 * @blob:	saved context (TPMS_CONTEXT), or NULL; for a session the
 *		client saved, the newest one (see @client_blob)
 * @blob_len:	its length
 * @blob_valid:	@blob holds the current state, so eviction needs no save
 * @client_blob: the context a client saved, once the resource manager
 *		has refreshed the session behind it (regap): a ContextLoad
 *		of exactly these bytes loads @blob instead
 * @client_blob_len: its length
 * @seq:	sequence number of @blob, for a session
 * @since:	for a session: when it started, or when it was handed off
 *		(tpm2_rm_now() milliseconds)
 * @last_use:	chip clock at the last command that named it
 * @gap:	average gap between its uses, in sixteenths of a tick; 0
 *		until it is used twice (tpm2-rm-policy.c)
 */
struct tpm2_rm_ctx {
	struct list_head node;
	struct list_head lru;
	struct tpm2_rm_client *client;
	struct tpm2_rm_user *user;
	struct list_head unode;
	enum tpm2_rm_kind kind;
	u32 vhandle;
	u32 phandle;
	bool resident;
	bool pinned;
	bool client_saved;
	bool dead;
	bool revoked;
	bool blob_valid;
	u16 blob_len;
	u16 client_blob_len;
	u8 *blob;
	u8 *client_blob;
	u64 seq;
	u64 since;
	u64 last_use;
	u64 gap;
};

/**
 * struct tpm2_rm_user - one user's share of the TPM's sessions
 * @node:	in the chip's @users hash
 * @uid:	who
 * @refs:	its open clients and its orphans
 * @nr_sessions: sessions in existence its clients hold, tombstones not
 *		counted, plus its orphans; the per-user bound is on this
 * @waiters:	its clients waiting only because of that bound, in order
 * @orphans:	its orphans, oldest first
 */
struct tpm2_rm_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int refs;
	unsigned int nr_sessions;
	struct list_head waiters;
	struct list_head orphans;
};

/* Which queue a client waiting for a session is in. */
enum tpm2_rm_queue {
	TPM2_RM_Q_NONE,
	TPM2_RM_Q_HOLDERS,	/* it holds sessions: served first */
	TPM2_RM_Q_NEW,		/* it holds none */
	TPM2_RM_Q_USER,		/* its user is at its bound */
};

/**
 * struct tpm2_rm_client - what one open /dev/tpmrmN file holds
 * @rm:		the chip's resource manager
 * @node:	in the chip's client list
 * @ctxs:	objects, sequences and sessions of this client
 * @nr_ctxs:	entries in @ctxs
 * @next_vhandle: next virtual handle; handed out once per open file, so
 *		a handle the client still holds is never reused (no ABA)
 * @id:		number of the client in traces
 * @uid:	who opened the file, for the per-user session bound
 * @user:	that user's accounting
 * @nr_sessions: sessions of this client in existence (not revoked)
 * @nr_saved:	of those, sessions it saved itself (never revoked)
 * @hold_node:	in the chip's @holders while @nr_sessions, in the order
 *		they last became holders (youngest last)
 * @rank_node:	in the chip's @ranked while it has a session that can be
 *		revoked (@nr_sessions > @nr_saved), by @nr_sessions
 * @wait_ticket: place in the queue for a session, 0 if not waiting
 * @queue:	which queue, see &enum tpm2_rm_queue
 * @wait_node:	in that queue
 * @wait_since:	when it started waiting (ms)
 * @wait_ms:	how long to sleep before asking again (set with
 *		%TPM2_RM_WAIT)
 * @waited:	the command in the queue has slept at least once
 * @claim:	sessions kept for it while it is starting sessions (see
 *		"claims" in tpm2-rm-sessions.c); 0 if none
 * @claim_until: when the claim lapses (ms)
 * @claim_node:	in the chip's @claimants while @claim
 * @waitq:	where its waiting command sleeps (or, for an O_NONBLOCK
 *		file, what requeues it); woken only when the resource
 *		manager wants this client to ask again
 * @wake_seq:	bumped at each such wake-up, read without the mutex
 * @pid:	thread group of the task that opened the file, in the
 *		initial PID namespace (for debugfs)
 * @comm:	that task's name then
 * @alone:	its command comes from a single-threaded process (@pid)
 *		blocked in write(): nothing of that process can act while
 *		the command waits.  Set by the chip glue for each command.
 * @commands:	commands it wrote (counted as in &tpm2_rm_stats.commands)
 * @tpm_commands: TPM commands the resource manager sent while its
 *		commands ran, theirs included
 */
struct tpm2_rm_client {
	struct tpm2_rm *rm;
	struct list_head node;
	struct list_head ctxs;
	unsigned int nr_ctxs;
	u32 next_vhandle;
	u32 id;
	kuid_t uid;
	struct tpm2_rm_user *user;
	unsigned int nr_sessions;
	unsigned int nr_saved;
	struct list_head hold_node;
	struct rb_node rank_node;
	u64 wait_ticket;
	enum tpm2_rm_queue queue;
	struct list_head wait_node;
	u64 wait_since;
	unsigned int wait_ms;
	bool waited;
	unsigned int claim;
	u64 claim_until;
	struct list_head claim_node;
	wait_queue_head_t waitq;
	unsigned long wake_seq;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool alone;
	u64 commands;
	u64 tpm_commands;
};

/**
 * struct tpm2_rm_stats - counters, readable in sysfs
 * @commands:		client commands
 * @tpm_commands:	commands the resource manager sent (clients' included)
 * @other_commands:	commands that did not come through it: the kernel's
 *			own and those written to /dev/tpmN
 * @loads:		ContextLoad issued by the resource manager
 * @saves:		ContextSave issued by the resource manager
 * @flushes:		FlushContext issued by the resource manager
 * @evictions:		contexts evicted to make room
 * @retries:		commands repeated after OBJECT/SESSION_MEMORY
 * @refused:		client commands answered by the resource manager alone
 * @waits:		commands that waited for a session
 * @wait_ms:		total time they waited
 * @wait_failed:	commands refused after waiting (bound, deadlock, signal)
 * @revoked:		sessions ended to give another client its fair share
 * @reclaimed:		handed-off sessions ended to make room
 * @regaps:		saved sessions refreshed to keep the context gap
 * @tpm_resets:		Startups of the TPM after it had forgotten what it held
 */
struct tpm2_rm_stats {
	u64 commands;
	u64 tpm_commands;
	u64 other_commands;
	u64 loads;
	u64 saves;
	u64 flushes;
	u64 evictions;
	u64 retries;
	u64 refused;
	u64 waits;
	u64 wait_ms;
	u64 wait_failed;
	u64 revoked;
	u64 reclaimed;
	u64 regaps;
	u64 tpm_resets;
};

/**
 * struct tpm2_rm_ops - how the resource manager reaches the TPM
 * @transmit:	send the command in @buf (@len bytes; @buf has room for
 *		TPM_BUFSIZE) and leave the response there; returns the
 *		response length or a negative errno
 * @cc_attrs:	TPMA_CC of a command code; -EOPNOTSUPP if not implemented
 * @now_ms:	a monotonic clock in milliseconds; NULL for jiffies
 *
 * The chip glue (tpm2-space.c) sends through tpm_transmit(); the KUnit
 * suite plugs in a fake TPM.
 */
struct tpm2_rm_ops {
	ssize_t (*transmit)(struct tpm2_rm *rm, u8 *buf, size_t len);
	int (*cc_attrs)(struct tpm2_rm *rm, u32 cc, u32 *attrs);
	u64 (*now_ms)(struct tpm2_rm *rm);
};

/* Hand-offs ended for room, remembered to tell whoever loads one. */
#define TPM2_RM_MAX_RECLAIMED	16

/**
 * struct tpm2_rm_reclaimed - a hand-off ended for room
 * @handle:	its handle
 * @seq:	the newest sequence of its saved context
 */
struct tpm2_rm_reclaimed {
	u32 handle;
	u64 seq;
};

/* Failed flushes remembered for another try: more than a TPM's slots. */
#define TPM2_RM_MAX_UNFLUSHED	16

/**
 * struct tpm2_rm - the resource manager of one chip
 * @ops:		transport, see &struct tpm2_rm_ops
 * @priv:		for @ops (the chip, or the fake TPM)
 * @clients:		open clients
 * @objects:		resident objects and sequences, least recently used first
 * @sessions:		resident sessions, least recently used first
 * @orphans:		sessions handed off by clients that have closed, oldest
 *			first
 * @users:		&struct tpm2_rm_user of every user with a client or
 *			an orphan
 * @holders:		clients holding sessions, youngest holder last
 * @nr_holders:		entries in @holders
 * @ranked:		clients with a revocable session, by sessions held
 * @wait_holders:	queue of waiting clients that hold sessions
 * @wait_new:		queue of waiting clients that hold none
 * @nr_waiting:		clients in any queue
 * @nr_waiting_holders:	of those, in @wait_holders
 * @nr_wanting:		of those, holding no session
 * @claimants:		clients with a claim, by when it lapses
 * @claims:		sum of their claims
 * @nr_objects:		entries in @objects
 * @nr_sessions:	entries in @sessions
 * @nr_orphans:		entries in @orphans
 * @max_objects:	object slots the TPM has (TPM_PT_HR_TRANSIENT_MIN)
 * @max_sessions:	session slots the TPM has (TPM_PT_HR_LOADED_MIN)
 * @max_active:		sessions the TPM can have in existence
 *			(TPM_PT_ACTIVE_SESSIONS_MAX)
 * @kernel_reserve:	sessions kept for the kernel's own commands (its HMAC
 *			session), which cannot wait
 * @gap_max:		TPM_PT_CONTEXT_GAP_MAX
 * @room_known:		the limits above were read from the TPM
 * @nr_live:		sessions in existence that the resource manager
 *			knows: its clients' (not revoked) and @orphans
 * @tpm_full:		the TPM answered SESSION_HANDLES although @nr_live
 *			is below @max_active (someone else holds sessions);
 *			cleared when a session ends, or after a while
 * @full_since:		when @tpm_full was set (ms)
 * @tickets:		last admission ticket handed out
 * @last_seq:		newest session context sequence seen
 * @oldest_hint:	a sequence no newer than the oldest saved session
 * @regapping:		a regap is in progress (it saves sessions itself)
 * @tpm_lost:		the TPM was initialised: what it held is gone
 *			(tpm2-rm-reset.c)
 * @tpm_started:	and has been started since: which sessions it kept is
 *			still to be asked
 * @busy:		the resource manager is sending; its own commands are
 *			not foreign ones (see tpm2_rm_foreign_prepare())
 * @clock:		advances with each client command, for LRU order
 * @next_id:		last client number handed out
 * @cur_client:		number of the client whose command runs, 0 if none
 * @reclaimed:		handle and newest context sequence of the last
 *			hand-offs ended for room (tpm2_rm_was_reclaimed()),
 *			oldest overwritten first
 * @next_reclaimed:	hand-offs ended so far; the next slot of @reclaimed
 * @unflushed:		handles of contexts the TPM may hold although nobody's
 *			books do: a FlushContext of them failed
 *			(tpm2_rm_flush())
 * @nr_unflushed:	entries in @unflushed
 * @io:			TPM_BUFSIZE buffer for the resource manager's commands
 * @copy:		TPM_BUFSIZE copy of the client command, for retries;
 *			zeroed when the command is over
 * @copy_len:		bytes of @copy in use
 * @stats:		counters
 */
struct tpm2_rm {
	const struct tpm2_rm_ops *ops;
	void *priv;
	struct list_head clients;
	struct list_head objects;
	struct list_head sessions;
	struct list_head orphans;
	DECLARE_HASHTABLE(users, 6);
	struct list_head holders;
	unsigned int nr_holders;
	struct rb_root ranked;
	struct list_head wait_holders;
	struct list_head wait_new;
	unsigned int nr_waiting;
	unsigned int nr_waiting_holders;
	unsigned int nr_wanting;
	struct list_head claimants;
	unsigned int claims;
	unsigned int nr_objects;
	unsigned int nr_sessions;
	unsigned int nr_orphans;
	unsigned int max_objects;
	unsigned int max_sessions;
	unsigned int max_active;
	unsigned int kernel_reserve;
	unsigned int gap_max;
	bool room_known;
	unsigned int nr_live;
	bool tpm_full;
	u64 full_since;
	u64 tickets;
	u64 last_seq;
	u64 oldest_hint;
	bool regapping;
	bool tpm_lost;
	bool tpm_started;
	bool busy;
	u64 clock;
	u32 next_id;
	u32 cur_client;
	struct tpm2_rm_reclaimed reclaimed[TPM2_RM_MAX_RECLAIMED];
	unsigned int next_reclaimed;
	u32 unflushed[TPM2_RM_MAX_UNFLUSHED];
	unsigned int nr_unflushed;
	u8 *io;
	u8 *copy;
	size_t copy_len;
	struct tpm2_rm_stats stats;
};

/* A refusal the resource manager decides, counted in its statistics. */
static inline size_t tpm2_rm_refuse(struct tpm2_rm *rm, u8 *buf, u32 rc)
{
	rm->stats.refused++;
	return tpm2_rm_error_rsp(buf, TPM2_RM_RC(rc));
}

struct tpm2_rm *tpm2_rm_alloc(const struct tpm2_rm_ops *ops, void *priv);
void tpm2_rm_free(struct tpm2_rm *rm);
struct tpm2_rm_client *tpm2_rm_client_alloc(struct tpm2_rm *rm, kuid_t uid);
void tpm2_rm_client_free(struct tpm2_rm_client *c, bool tpm_usable);
ssize_t tpm2_rm_command(struct tpm2_rm_client *c, u8 *buf, size_t bufsiz);

/**
 * struct tpm2_rm_refs - what one command names, in the client's table
 * @h:		the entry of each handle in the handle area, or NULL
 * @s:		the entry of each session in the authorization area, or NULL
 * @persistent:	persistent handles it names (each takes an object slot)
 */
struct tpm2_rm_refs {
	struct tpm2_rm_ctx *h[TPM2_RM_MAX_HANDLES];
	struct tpm2_rm_ctx *s[TPM2_RM_MAX_SESSIONS];
	unsigned int persistent;
};

/* the client's table (tpm2-rm-table.c) */
struct tpm2_rm_ctx *tpm2_rm_find_ctx(struct tpm2_rm_client *c, u32 handle);
struct tpm2_rm_ctx *tpm2_rm_new_ctx(struct tpm2_rm_client *c,
				    enum tpm2_rm_kind kind, u32 vhandle);
struct tpm2_rm_ctx *tpm2_rm_claim_session(struct tpm2_rm_client *c,
					  u32 handle);
int tpm2_rm_resolve(struct tpm2_rm_client *c, const struct tpm2_rm_cmd *cmd,
		    struct tpm2_rm_refs *refs, u32 *rc);
void tpm2_rm_drop_ref(struct tpm2_rm *rm, struct tpm2_rm_refs *refs,
		      struct tpm2_rm_ctx *ctx);
void tpm2_rm_pin_refs(struct tpm2_rm_refs *refs, bool pin);
void tpm2_rm_map_handles(const struct tpm2_rm_cmd *cmd,
			 const struct tpm2_rm_refs *refs, u8 *buf, bool tpm);

/* commands that name contexts (tpm2-rm-virt.c) */
ssize_t tpm2_rm_flush_context(struct tpm2_rm_client *c,
			      const struct tpm2_rm_cmd *cmd, u8 *buf,
			      size_t len);
ssize_t tpm2_rm_get_capability(struct tpm2_rm_client *c,
			       const struct tpm2_rm_cmd *cmd, u8 *buf,
			       bool *handled);
void tpm2_rm_context_save_begin(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
u32 tpm2_rm_context_save_done(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			      const u8 *buf, size_t len);
u32 tpm2_rm_context_load_begin(struct tpm2_rm_client *c,
			       struct tpm2_rm_cmd *cmd, u8 *buf, size_t bufsiz,
			       u32 *len);
void tpm2_rm_context_load_done(struct tpm2_rm_ctx *ctx,
			       const struct tpm2_rm_cmd *cmd, const u8 *cmdbuf);
bool tpm2_rm_avoid_tombstone(struct tpm2_rm_client *c, u8 *buf, u32 *handle);

/* commands that do not come through the resource manager (tpm2-rm-kernel.c) */
int tpm2_rm_evict_all(struct tpm2_rm *rm);
void tpm2_rm_foreign_room(struct tpm2_rm *rm, const u8 *buf, size_t len);
bool tpm2_rm_foreign_retry_rc(struct tpm2_rm *rm, u32 cc, u32 rc);

/* residency (tpm2-rm-cache.c) */
int tpm2_rm_make_room(struct tpm2_rm *rm, unsigned int objects,
		      unsigned int sessions);
void tpm2_rm_set_resident(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx,
			  u32 phandle);
void tpm2_rm_clear_resident(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_touch(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_forget_blob(struct tpm2_rm_ctx *ctx);
int tpm2_rm_evict(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
int tpm2_rm_evict_one(struct tpm2_rm *rm, bool sessions);
int tpm2_rm_restore(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_saw_save(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);

/* eviction decisions (tpm2-rm-policy.c) */
void tpm2_rm_policy_used(struct tpm2_rm_ctx *ctx, u64 now);
struct tpm2_rm_ctx *tpm2_rm_policy_victim(struct list_head *resident, u64 now);

/* sessions and the context gap (tpm2-rm-sessions.c) */
void tpm2_rm_drop_ctx(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
u64 tpm2_rm_now(struct tpm2_rm *rm);
void tpm2_rm_session_born(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_session_gone(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_set_client_saved(struct tpm2_rm_ctx *ctx, bool saved);
struct tpm2_rm_user *tpm2_rm_user_get(struct tpm2_rm *rm, kuid_t uid);
void tpm2_rm_user_put(struct tpm2_rm *rm, struct tpm2_rm_user *u);
void tpm2_rm_orphan(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
u32 tpm2_rm_admit_load(struct tpm2_rm_client *c, u32 handle);
void tpm2_rm_claim(struct tpm2_rm_client *c, bool started);
int tpm2_rm_admit(struct tpm2_rm_client *c);
void tpm2_rm_admit_done(struct tpm2_rm_client *c, u32 rc);
u32 tpm2_rm_wait_cancel(struct tpm2_rm_client *c);
bool tpm2_rm_reclaim_orphan(struct tpm2_rm *rm, unsigned int min_age);
bool tpm2_rm_was_reclaimed(struct tpm2_rm *rm, u32 handle, u64 seq);
bool tpm2_rm_revoke_for(struct tpm2_rm *rm, struct tpm2_rm_client *c);
void tpm2_rm_revoke(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
void tpm2_rm_session_lost(struct tpm2_rm *rm, struct tpm2_rm_ctx *ctx);
int tpm2_rm_regap(struct tpm2_rm *rm, bool force);
int tpm2_rm_room(struct tpm2_rm *rm, unsigned int objects,
		 unsigned int sessions);
int tpm2_rm_evict_one_more(struct tpm2_rm *rm, bool sessions);
bool tpm2_rm_substitute_blob(struct tpm2_rm *rm, u8 *body, u32 len,
			     u32 room, u32 *new_len);

/* the TPM forgot what it held: noticed by tpm2-rm-io.c, handled by tpm2-rm-reset.c */
void tpm2_rm_saw_rc(struct tpm2_rm *rm, u32 cc, u32 rc);
void tpm2_rm_sync_tpm(struct tpm2_rm *rm);

extern unsigned int tpm2_rm_max_client_contexts;
extern unsigned int tpm2_rm_max_orphans;
extern unsigned int tpm2_rm_session_wait_ms;
extern unsigned int tpm2_rm_client_sessions;
extern unsigned int tpm2_rm_user_sessions;
extern unsigned int tpm2_rm_session_claim;
extern unsigned int tpm2_rm_orphan_ms;

#endif /* __TPM2_RM_H__ */
