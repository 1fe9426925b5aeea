/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events of the TPM 2.0 resource manager (drivers/char/tpm/tpm2-rm-*.c).
 *
 * "client" is the number of the /dev/tpmrmN file on whose behalf the
 * resource manager acted, 0 for the kernel's own commands; "vhandle" is
 * the handle that client uses, "handle" the TPM's.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tpm2_rm

#if !defined(_TRACE_TPM2_RM_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_TPM2_RM_H

#include <linux/tracepoint.h>

/* ContextLoad, ContextSave and FlushContext the resource manager sent. */
DECLARE_EVENT_CLASS(tpm2_rm_context_class,
	TP_PROTO(u32 client, u32 handle, int rc),
	TP_ARGS(client, handle, rc),
	TP_STRUCT__entry(
		__field(u32, client)
		__field(u32, handle)
		__field(int, rc)
	),
	TP_fast_assign(
		__entry->client = client;
		__entry->handle = handle;
		__entry->rc = rc;
	),
	TP_printk("client=%u handle=0x%08x rc=%#x",
		  __entry->client, __entry->handle, __entry->rc)
);

#define DEFINE_TPM2_RM_CONTEXT_EVENT(name)				\
	DEFINE_EVENT(tpm2_rm_context_class, name,			\
		TP_PROTO(u32 client, u32 handle, int rc),		\
		TP_ARGS(client, handle, rc))

DEFINE_TPM2_RM_CONTEXT_EVENT(tpm2_rm_load);
DEFINE_TPM2_RM_CONTEXT_EVENT(tpm2_rm_save);
DEFINE_TPM2_RM_CONTEXT_EVENT(tpm2_rm_flush);

/* A context left the TPM to make room. */
TRACE_EVENT(tpm2_rm_evict,
	TP_PROTO(u32 owner, u32 vhandle, u32 handle, bool session),
	TP_ARGS(owner, vhandle, handle, session),
	TP_STRUCT__entry(
		__field(u32, owner)
		__field(u32, vhandle)
		__field(u32, handle)
		__field(bool, session)
	),
	TP_fast_assign(
		__entry->owner = owner;
		__entry->vhandle = vhandle;
		__entry->handle = handle;
		__entry->session = session;
	),
	TP_printk("owner=%u vhandle=0x%08x handle=0x%08x %s",
		  __entry->owner, __entry->vhandle, __entry->handle,
		  __entry->session ? "session" : "object")
);

/* A StartAuthSession finished waiting for a session; rc 0 if it got one. */
TRACE_EVENT(tpm2_rm_wait,
	TP_PROTO(u32 client, u64 waited_ms, u32 rc),
	TP_ARGS(client, waited_ms, rc),
	TP_STRUCT__entry(
		__field(u32, client)
		__field(u64, waited_ms)
		__field(u32, rc)
	),
	TP_fast_assign(
		__entry->client = client;
		__entry->waited_ms = waited_ms;
		__entry->rc = rc;
	),
	TP_printk("client=%u waited_ms=%llu rc=%#x",
		  __entry->client, __entry->waited_ms, __entry->rc)
);

/* A client's session was ended for another client (0: the kernel). */
TRACE_EVENT(tpm2_rm_revoke,
	TP_PROTO(u32 owner, u32 handle, u32 client),
	TP_ARGS(owner, handle, client),
	TP_STRUCT__entry(
		__field(u32, owner)
		__field(u32, handle)
		__field(u32, client)
	),
	TP_fast_assign(
		__entry->owner = owner;
		__entry->handle = handle;
		__entry->client = client;
	),
	TP_printk("owner=%u handle=0x%08x for client=%u",
		  __entry->owner, __entry->handle, __entry->client)
);

/* A saved session was loaded and saved again (context gap). */
TRACE_EVENT(tpm2_rm_regap,
	TP_PROTO(u32 owner, u32 handle, u64 old_seq, u64 new_seq),
	TP_ARGS(owner, handle, old_seq, new_seq),
	TP_STRUCT__entry(
		__field(u32, owner)
		__field(u32, handle)
		__field(u64, old_seq)
		__field(u64, new_seq)
	),
	TP_fast_assign(
		__entry->owner = owner;
		__entry->handle = handle;
		__entry->old_seq = old_seq;
		__entry->new_seq = new_seq;
	),
	TP_printk("owner=%u handle=0x%08x seq=%llu->%llu",
		  __entry->owner, __entry->handle, __entry->old_seq,
		  __entry->new_seq)
);

/*
 * The TPM was initialised (started: and started again) behind the
 * resource manager; contexts and sessions it could not keep.
 */
TRACE_EVENT(tpm2_rm_tpm_reset,
	TP_PROTO(bool started, u32 lost_contexts, u32 lost_sessions),
	TP_ARGS(started, lost_contexts, lost_sessions),
	TP_STRUCT__entry(
		__field(bool, started)
		__field(u32, lost_contexts)
		__field(u32, lost_sessions)
	),
	TP_fast_assign(
		__entry->started = started;
		__entry->lost_contexts = lost_contexts;
		__entry->lost_sessions = lost_sessions;
	),
	TP_printk("started=%d lost_contexts=%u lost_sessions=%u",
		  __entry->started, __entry->lost_contexts,
		  __entry->lost_sessions)
);

#endif /* _TRACE_TPM2_RM_H */

#include <trace/define_trace.h>
