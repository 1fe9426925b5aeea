/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 resource manager: commands sent on its own behalf
 * (tpm2-rm-io.c).
 */
#ifndef __TPM2_RM_IO_H__
#define __TPM2_RM_IO_H__

#include <linux/types.h>

struct tpm2_rm;

void *tpm2_rm_dup(const void *src, size_t len);
ssize_t tpm2_rm_xmit(struct tpm2_rm *rm, u8 *buf, size_t len);
int tpm2_rm_save(struct tpm2_rm *rm, u32 handle, u8 **blob, u16 *blob_len);
int tpm2_rm_load(struct tpm2_rm *rm, const u8 *blob, u16 blob_len, u32 *handle);
int tpm2_rm_flush(struct tpm2_rm *rm, u32 handle);
void tpm2_rm_retry_flushes(struct tpm2_rm *rm);
void tpm2_rm_unflushed_gone(struct tpm2_rm *rm, u32 handle);
int tpm2_rm_get_property(struct tpm2_rm *rm, u32 prop, u32 *value);
void tpm2_rm_learn_room(struct tpm2_rm *rm);
int tpm2_rm_get_handles(struct tpm2_rm *rm, u32 first, u32 *out,
			unsigned int max, unsigned int *n, bool *more);

#endif /* __TPM2_RM_IO_H__ */
