// SPDX-License-Identifier: GPL-2.0-only
/*
 * TPM 2.0 resource manager: counters and state in sysfs, one value per
 * file under /sys/class/tpm/tpmN/rm/ (Documentation/ABI/testing/
 * sysfs-class-tpm-rm).  Each read takes the chip's tpm_mutex, so it
 * waits for a command in flight and sees a consistent state.
 */
#include <linux/device.h>
#include <linux/sysfs.h>
#include "tpm.h"
#include "tpm2-rm.h"

enum rm_gauge { G_CLIENTS, G_OBJECTS, G_SESSIONS, G_LIVE, G_ORPHANS,
		G_MAX_SESSIONS };

static u64 gauge(struct tpm2_rm *rm, enum rm_gauge g)
{
	struct tpm2_rm_client *c;
	u64 n = 0;

	switch (g) {
	case G_CLIENTS:
		list_for_each_entry(c, &rm->clients, node)
			n++;
		return n;
	case G_OBJECTS:
		return rm->nr_objects;
	case G_SESSIONS:
		return rm->nr_sessions;
	case G_LIVE:
		return rm->nr_live;
	case G_ORPHANS:
		return rm->nr_orphans;
	case G_MAX_SESSIONS:
		return rm->max_active - min(rm->kernel_reserve, rm->max_active);
	}
	return 0;
}

/* A counter (at @off in &struct tpm2_rm_stats) or a gauge. */
static ssize_t rm_show(struct device *dev, char *buf, ssize_t off,
		       enum rm_gauge g)
{
	struct tpm_chip *chip = to_tpm_chip(dev);
	u64 v;

	mutex_lock(&chip->tpm_mutex);
	if (off >= 0)
		v = *(u64 *)((u8 *)&chip->rm->stats + off);
	else
		v = gauge(chip->rm, g);
	mutex_unlock(&chip->tpm_mutex);
	return sysfs_emit(buf, "%llu\n", v);
}

#define RM_COUNTER(name)						\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return rm_show(dev, buf, offsetof(struct tpm2_rm_stats, name), 0); \
}									\
static DEVICE_ATTR_RO(name)

#define RM_GAUGE(name, g)						\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return rm_show(dev, buf, -1, g);				\
}									\
static DEVICE_ATTR_RO(name)

RM_COUNTER(commands);
RM_COUNTER(tpm_commands);
RM_COUNTER(other_commands);
RM_COUNTER(loads);
RM_COUNTER(saves);
RM_COUNTER(flushes);
RM_COUNTER(evictions);
RM_COUNTER(retries);
RM_COUNTER(refused);
RM_COUNTER(waits);
RM_COUNTER(wait_ms);
RM_COUNTER(wait_failed);
RM_COUNTER(revoked);
RM_COUNTER(reclaimed);
RM_COUNTER(regaps);
RM_COUNTER(tpm_resets);
RM_GAUGE(clients, G_CLIENTS);
RM_GAUGE(resident_objects, G_OBJECTS);
RM_GAUGE(resident_sessions, G_SESSIONS);
RM_GAUGE(sessions, G_LIVE);
RM_GAUGE(handed_off, G_ORPHANS);
RM_GAUGE(max_sessions, G_MAX_SESSIONS);

static struct attribute *tpm2_rm_attrs[] = {
	&dev_attr_commands.attr,
	&dev_attr_tpm_commands.attr,
	&dev_attr_other_commands.attr,
	&dev_attr_loads.attr,
	&dev_attr_saves.attr,
	&dev_attr_flushes.attr,
	&dev_attr_evictions.attr,
	&dev_attr_retries.attr,
	&dev_attr_refused.attr,
	&dev_attr_waits.attr,
	&dev_attr_wait_ms.attr,
	&dev_attr_wait_failed.attr,
	&dev_attr_revoked.attr,
	&dev_attr_reclaimed.attr,
	&dev_attr_regaps.attr,
	&dev_attr_tpm_resets.attr,
	&dev_attr_resident_objects.attr,
	&dev_attr_resident_sessions.attr,
	&dev_attr_sessions.attr,
	&dev_attr_handed_off.attr,
	&dev_attr_max_sessions.attr,
	&dev_attr_clients.attr,
	NULL
};

/* The "rm" directory of a TPM 2.0 chip (added by tpm_sysfs_add_device()). */
const struct attribute_group tpm2_rm_group = {
	.name = "rm",
	.attrs = tpm2_rm_attrs,
};
