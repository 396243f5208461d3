// SPDX-License-Identifier: GPL-2.0-only
/*
 * rproc_sim: simulated remote processors for the real remoteproc core.
 *
 * One platform device "rproc_sim.N" per name in names=, each registering a
 * remote processor with the kernel's remoteproc core. Firmware is loaded by
 * the core's own ELF loader into simulated device memory (vmalloc'ed, by
 * default 1 MiB at device address 0); segments outside it are refused.
 * Control files on the platform device let tests crash the core, make the
 * next operation fail, and see what the driver was asked to do.
 *
 * The interface is documented in tests/vm/README.md; tests rely on it.
 */

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/elf.h>
#include <linux/err.h>
#include <linux/firmware.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>

#include "remoteproc_internal.h"

#define SIM_MAX 64
#define SIM_DEFAULT_MEM_SIZE 0x100000UL

static char *names[SIM_MAX] = { "sim0" };
static int n_names = 1;
module_param_array(names, charp, &n_names, 0444);
MODULE_PARM_DESC(names, "comma-separated core names, one instance per name (default sim0)");

static unsigned int detached[SIM_MAX];
static int n_detached;
module_param_array(detached, uint, &n_detached, 0444);
MODULE_PARM_DESC(detached, "per instance (or one for all): 1 = running at load, shown detached");

static unsigned int boot_ms[SIM_MAX];
static int n_boot_ms;
module_param_array(boot_ms, uint, &n_boot_ms, 0444);
MODULE_PARM_DESC(boot_ms, "per instance (or one for all): milliseconds a start takes");

static unsigned int attach_ms[SIM_MAX];
static int n_attach_ms;
module_param_array(attach_ms, uint, &n_attach_ms, 0444);
MODULE_PARM_DESC(attach_ms, "per instance (or one for all): milliseconds an attach takes");

static unsigned int rsc_required[SIM_MAX];
static int n_rsc_required;
module_param_array(rsc_required, uint, &n_rsc_required, 0444);
MODULE_PARM_DESC(rsc_required, "per instance (or one for all): 1 = refuse firmware without .resource_table");

static unsigned int attach_on_recovery[SIM_MAX];
static int n_attach_on_recovery;
module_param_array(attach_on_recovery, uint, &n_attach_on_recovery, 0444);
MODULE_PARM_DESC(attach_on_recovery, "per instance (or one for all): 1 = RPROC_FEAT_ATTACH_ON_RECOVERY");

static unsigned int auto_boot[SIM_MAX];
static int n_auto_boot;
module_param_array(auto_boot, uint, &n_auto_boot, 0444);
MODULE_PARM_DESC(auto_boot, "per instance (or one for all): rproc->auto_boot (default 0)");

static unsigned long mem_base[SIM_MAX];
static int n_mem_base;
module_param_array(mem_base, ulong, &n_mem_base, 0444);
MODULE_PARM_DESC(mem_base, "per instance (or one for all): device address of the memory (default 0)");

static unsigned long mem_size[SIM_MAX];
static int n_mem_size;
module_param_array(mem_size, ulong, &n_mem_size, 0444);
MODULE_PARM_DESC(mem_size, "per instance (or one for all): bytes of device memory (default 1 MiB)");

struct rproc_sim {
	struct rproc *rproc;
	unsigned int index;

	void *mem;
	u64 mem_da;
	size_t mem_size;
	unsigned int boot_ms;
	unsigned int attach_ms;
	bool rsc_required;

	bool hw_running;

	atomic_t fail_start;
	atomic_t fail_attach;
	atomic_t fail_stop;
	atomic_t fail_detach;

	atomic_t n_prepare;
	atomic_t n_load;
	atomic_t n_start;
	atomic_t n_stop;
	atomic_t n_attach;
	atomic_t n_detach;
};

static struct platform_device *sim_pdevs[SIM_MAX];

/* A per-instance parameter: its own value, the only one given, or the default. */
static unsigned long sim_param(const void *arr, size_t elem, int count, unsigned int i,
			       unsigned long def)
{
	if (count <= 0)
		return def;
	if (count == 1)
		i = 0;
	else if (i >= count)
		return def;
	if (elem == sizeof(unsigned long))
		return ((const unsigned long *)arr)[i];
	return ((const unsigned int *)arr)[i];
}

#define SIM_PARAM(name, i, def) \
	sim_param(name, sizeof(name[0]), n_##name, i, def)

/* The error injected into the next operation of a kind, once. */
static int sim_take_failure(atomic_t *fail)
{
	int err = atomic_xchg(fail, 0);

	return err > 0 ? -err : 0;
}

static void sim_add_dump_segment(struct rproc_sim *sim)
{
	/* The core empties the list on every cleanup; add it once per boot. */
	if (list_empty(&sim->rproc->dump_segments))
		rproc_coredump_add_segment(sim->rproc, sim->mem_da, sim->mem_size);
}

static int sim_prepare(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;

	sim_add_dump_segment(sim);
	atomic_inc(&sim->n_prepare);
	return 0;
}

static int sim_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	struct rproc_sim *sim = rproc->priv;
	const struct elf32_hdr *ehdr = (const struct elf32_hdr *)fw->data;
	int ret;

	/* The dump describes the image that runs (sanity_check passed). */
	rproc_coredump_set_elf_info(rproc, ehdr->e_ident[EI_CLASS], ehdr->e_machine);

	ret = rproc_elf_load_rsc_table(rproc, fw);
	if (ret && !sim->rsc_required) {
		dev_info(&rproc->dev, "no resource table in %s, going on without\n",
			 rproc->firmware);
		return 0;
	}
	return ret;
}

static int sim_load(struct rproc *rproc, const struct firmware *fw)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	ret = rproc_elf_load_segments(rproc, fw);
	if (!ret)
		atomic_inc(&sim->n_load);
	return ret;
}

static int sim_start(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	if (sim->boot_ms)
		msleep(sim->boot_ms);
	ret = sim_take_failure(&sim->fail_start);
	if (ret)
		return ret;
	WRITE_ONCE(sim->hw_running, true);
	atomic_inc(&sim->n_start);
	return 0;
}

static int sim_stop(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	ret = sim_take_failure(&sim->fail_stop);
	if (ret)
		return ret;
	WRITE_ONCE(sim->hw_running, false);
	atomic_inc(&sim->n_stop);
	return 0;
}

static int sim_attach(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	if (sim->attach_ms)
		msleep(sim->attach_ms);
	ret = sim_take_failure(&sim->fail_attach);
	if (ret)
		return ret;
	/* After a crash the remote side has restarted itself by now. */
	WRITE_ONCE(sim->hw_running, true);
	atomic_inc(&sim->n_attach);
	return 0;
}

static int sim_detach(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	ret = sim_take_failure(&sim->fail_detach);
	if (ret)
		return ret;
	/* The core keeps running: that is what detaching means. */
	atomic_inc(&sim->n_detach);
	return 0;
}

static void *sim_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem)
{
	struct rproc_sim *sim = rproc->priv;
	u64 offset;

	if (da < sim->mem_da)
		return NULL;
	offset = da - sim->mem_da;
	if (offset > sim->mem_size || len > sim->mem_size - offset)
		return NULL;
	if (is_iomem)
		*is_iomem = false;
	return sim->mem + offset;
}

static const struct rproc_ops sim_ops = {
	.prepare = sim_prepare,
	.start = sim_start,
	.stop = sim_stop,
	.attach = sim_attach,
	.detach = sim_detach,
	.da_to_va = sim_da_to_va,
	.load = sim_load,
	.parse_fw = sim_parse_fw,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
};

/* Control files on the platform device */

static ssize_t crash_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);
	enum rproc_state state = READ_ONCE(sim->rproc->state);
	enum rproc_crash_type type = RPROC_WATCHDOG;
	unsigned int val;

	/* Linux only notices crashes of a core it runs or is attached to. */
	if (state != RPROC_RUNNING && state != RPROC_ATTACHED)
		return -EINVAL;
	if (!kstrtouint(buf, 0, &val) && val <= RPROC_FATAL_ERROR)
		type = val;
	WRITE_ONCE(sim->hw_running, false);
	rproc_report_crash(sim->rproc, type);
	return count;
}
static DEVICE_ATTR_WO(crash);

#define SIM_FAIL_ATTR(op)							\
static ssize_t fail_##op##_show(struct device *dev,				\
				struct device_attribute *attr, char *buf)	\
{										\
	struct rproc_sim *sim = dev_get_drvdata(dev);				\
										\
	return sysfs_emit(buf, "%d\n", atomic_read(&sim->fail_##op));		\
}										\
static ssize_t fail_##op##_store(struct device *dev,				\
				 struct device_attribute *attr,		\
				 const char *buf, size_t count)			\
{										\
	struct rproc_sim *sim = dev_get_drvdata(dev);				\
	unsigned int val;							\
	int ret;								\
										\
	ret = kstrtouint(buf, 0, &val);						\
	if (ret)								\
		return ret;							\
	if (val > MAX_ERRNO)							\
		return -ERANGE;							\
	atomic_set(&sim->fail_##op, val);					\
	return count;								\
}										\
static DEVICE_ATTR_RW(fail_##op)

SIM_FAIL_ATTR(start);
SIM_FAIL_ATTR(attach);
SIM_FAIL_ATTR(stop);
SIM_FAIL_ATTR(detach);

static ssize_t hw_running_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(sim->hw_running));
}
static DEVICE_ATTR_RO(hw_running);

static ssize_t counters_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "prepare=%d load=%d start=%d stop=%d attach=%d detach=%d\n",
			  atomic_read(&sim->n_prepare), atomic_read(&sim->n_load),
			  atomic_read(&sim->n_start), atomic_read(&sim->n_stop),
			  atomic_read(&sim->n_attach), atomic_read(&sim->n_detach));
}
static DEVICE_ATTR_RO(counters);

static struct attribute *sim_attrs[] = {
	&dev_attr_crash.attr,
	&dev_attr_fail_start.attr,
	&dev_attr_fail_attach.attr,
	&dev_attr_fail_stop.attr,
	&dev_attr_fail_detach.attr,
	&dev_attr_hw_running.attr,
	&dev_attr_counters.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sim);

static void sim_free_mem(void *mem)
{
	vfree(mem);
}

static int sim_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	unsigned int i = pdev->id;
	struct rproc_sim *sim;
	struct rproc *rproc;
	int ret;

	if (i >= n_names)
		return -ENODEV;

	rproc = devm_rproc_alloc(dev, names[i], &sim_ops, NULL, sizeof(*sim));
	if (!rproc)
		return -ENOMEM;

	sim = rproc->priv;
	sim->rproc = rproc;
	sim->index = i;
	sim->mem_da = SIM_PARAM(mem_base, i, 0);
	sim->mem_size = SIM_PARAM(mem_size, i, SIM_DEFAULT_MEM_SIZE);
	sim->boot_ms = SIM_PARAM(boot_ms, i, 0);
	sim->attach_ms = SIM_PARAM(attach_ms, i, 0);
	sim->rsc_required = SIM_PARAM(rsc_required, i, 0);

	if (!sim->mem_size || sim->mem_da + sim->mem_size < sim->mem_da)
		return -EINVAL;
	sim->mem = vzalloc(sim->mem_size);
	if (!sim->mem)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, sim_free_mem, sim->mem);
	if (ret)
		return ret;

	rproc->auto_boot = SIM_PARAM(auto_boot, i, 0);
	if (SIM_PARAM(attach_on_recovery, i, 0))
		rproc_set_feature(rproc, RPROC_FEAT_ATTACH_ON_RECOVERY);
	/* The class is replaced by the firmware's when one is loaded. */
	rproc_coredump_set_elf_info(rproc, ELFCLASS32, EM_NONE);

	if (SIM_PARAM(detached, i, 0)) {
		/* Started by a "bootloader": the core is running before Linux. */
		sim->hw_running = true;
		rproc->state = RPROC_DETACHED;
	}

	platform_set_drvdata(pdev, sim);

	ret = devm_rproc_add(dev, rproc);
	if (ret)
		return dev_err_probe(dev, ret, "rproc_add failed\n");

	dev_info(dev, "simulated core %s: %zu bytes at 0x%llx%s\n", names[i], sim->mem_size,
		 (unsigned long long)sim->mem_da, sim->hw_running ? ", detached" : "");
	return 0;
}

static struct platform_driver sim_driver = {
	.probe = sim_probe,
	.driver = {
		.name = "rproc_sim",
		.dev_groups = sim_groups,
	},
};

static void sim_unregister_devices(void)
{
	int i;

	for (i = SIM_MAX - 1; i >= 0; i--) {
		if (sim_pdevs[i])
			platform_device_unregister(sim_pdevs[i]);
		sim_pdevs[i] = NULL;
	}
}

static int __init sim_init(void)
{
	struct platform_device *pdev;
	int ret, i;

	if (n_names < 1 || n_names > SIM_MAX)
		return -EINVAL;
	for (i = 0; i < n_names; i++)
		if (!names[i] || !names[i][0])
			return -EINVAL;

	ret = platform_driver_register(&sim_driver);
	if (ret)
		return ret;

	for (i = 0; i < n_names; i++) {
		pdev = platform_device_register_simple("rproc_sim", i, NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			goto fail;
		}
		sim_pdevs[i] = pdev;
		if (!platform_get_drvdata(pdev)) {
			/* probe failed: say so instead of leaving a bare device */
			ret = -ENODEV;
			goto fail;
		}
	}
	return 0;

fail:
	sim_unregister_devices();
	platform_driver_unregister(&sim_driver);
	return ret;
}

static void __exit sim_exit(void)
{
	/* Unbinding deletes the remote processors (stopping running cores). */
	sim_unregister_devices();
	platform_driver_unregister(&sim_driver);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated remote processors for the remoteproc core (rprocd test bench)");
MODULE_LICENSE("GPL");
