/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "coredump-save.h"
#include "firmware-stage.h"
#include "log.h"
#include "util.h"
#include "worker.h"

struct worker_pool {
	int pipe[2];
	sd_event_source *source;
	unsigned running;
	bool manual;
	struct work **pending; /* manual: started, not run yet */
	size_t n_pending;
};

struct work *work_new(struct rproc_ctx *ctx, const struct kernel *kernel, struct rproc_device *dev,
		      enum core_action action)
{
	struct work *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->ctx = rproc_ctx_ref(ctx);
	w->kernel = kernel;
	w->dev = rproc_device_ref(dev);
	w->action = action;
	w->expect.machine = -1;
	w->set_recovery = -1;
	w->set_coredump = -1;
	w->update_fd = -1;
	w->cdev_fd = -1;
	w->state_before = w->state_after = RPROC_STATE_INVALID;
	return w;
}

struct work *work_free(struct work *w)
{
	if (!w)
		return NULL;
	rproc_device_unref(w->dev);
	rproc_ctx_unref(w->ctx);
	free(w->firmware);
	free(w->fw_path);
	free(w->kernel_firmware);
	free(w->dump_src);
	free(w->dump_dir);
	free(w->dump_core);
	free(w->dump_file);
	free(w->dump_path);
	free(w->stage_dir);
	free(w->update_dir);
	if (w->update_fd >= 0)
		close(w->update_fd);
	free(w->stage_prefix);
	free(w->stage_missing);
	strv_free(w->digests);
	free(w->staged_name);
	free(w->why);
	free(w->dump_trace);
	free(w->dump_trace_path);
	kernel_cdev_close(w->kernel, w->cdev_fd);
	free(w);
	return NULL;
}

/* Read the state and remember it: every state read reaches core_observe(). */
static int read_state(struct work *w, enum rproc_state *ret)
{
	int r = kernel_read_state(w->kernel, w->dev, ret);

	if (r < 0)
		*ret = RPROC_STATE_INVALID;
	else if (w->n_seen < WORK_SEEN_MAX)
		w->seen[w->n_seen++] = *ret;
	else
		w->seen[WORK_SEEN_MAX - 1] = *ret;
	return r;
}

static int fail(struct work *w, const char *step, int error)
{
	w->failed_step = step;
	w->error = error;
	return error;
}

/* Start or attach: through the chardev (keeping it open) or sysfs. */
static int request_start(struct work *w)
{
	int fd, r;

	if (!w->via_cdev)
		return kernel_request(w->kernel, w->dev, RPROC_CMD_START);

	fd = kernel_cdev_open(w->kernel, w->dev);
	if (fd < 0)
		return fd;
	/* Set the flag before starting, so a daemon killed mid-boot still stops the core. */
	r = kernel_cdev_set_shutdown_on_release(w->kernel, fd, true);
	if (r >= 0)
		r = kernel_cdev_request(w->kernel, fd, RPROC_CMD_START);
	if (r < 0) {
		/* Clear the flag again: it belongs to the processor and outlives this fd. */
		(void) kernel_cdev_set_shutdown_on_release(w->kernel, fd, false);
		kernel_cdev_close(w->kernel, fd);
		return r;
	}
	w->cdev_fd = fd;
	return 0;
}

/*
 * "offline" after a start the kernel took is also what a core reads while
 * the kernel recovers it from a crash right after the boot (between its stop
 * and its start, or waiting for an inline dump to be read). Writing the
 * firmware name again tells them apart: the write takes the rproc lock, so it
 * waits out a recovery and then fails with EBUSY on a core that is up again;
 * only a write that goes through with the core still offline is the wedge.
 */
static bool really_wedged(struct work *w)
{
	_cleanup_free_ char *read = NULL;
	/* A staged boot wrote the copy's name: the same name again, never the source's. */
	const char *name = w->staged_name ? w->staged_name : w->firmware;
	enum rproc_state now;
	int r;

	/*
	 * The name just booted; a recovery boots the kernel's own, read back
	 * (a reader strips trailing white space: a name ending in it is not
	 * written back, and nothing unsure is called a wedge).
	 */
	if (!name) {
		if (kernel_read_firmware(w->kernel, w->dev, &read) < 0 || !read || !*read)
			return false;
		name = read;
	}
	r = kernel_write_firmware(w->kernel, w->dev, name);
	(void) read_state(w, &now);
	w->state_after = now;
	return r >= 0 && now == RPROC_STATE_OFFLINE;
}

/* Open the chardev with shutdown-on-release for a core that is up, without a start. */
static void bind_cdev(struct work *w)
{
	int fd = kernel_cdev_open(w->kernel, w->dev);

	if (fd < 0)
		return;
	if (kernel_cdev_set_shutdown_on_release(w->kernel, fd, true) < 0) {
		kernel_cdev_close(w->kernel, fd);
		return;
	}
	w->cdev_fd = fd;
}

static bool same_file(const struct rproc_fw_info *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino && a->size == (uint64_t) st->st_size &&
	       a->mtime_nsec == (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * The file changed while the kernel loaded it: which image the kernel read is
 * unknown. One that passes now is let run (with a warning); one the validator
 * refuses may be what the core runs, so the core is stopped.
 */
static int recheck_changed_image(struct work *w, const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct rproc_fw_info info;
	int r;

	r = rproc_firmware_validate(w->ctx, name, &w->expect, &info, &path);
	if (r <= 0)
		return 0; /* valid, or gone: nothing to judge it by */
	if (w->cdev_fd >= 0) {
		(void) kernel_cdev_set_shutdown_on_release(w->kernel, w->cdev_fd, false);
		(void) kernel_cdev_request(w->kernel, w->cdev_fd, RPROC_CMD_STOP);
		kernel_cdev_close(w->kernel, w->cdev_fd);
		w->cdev_fd = -1;
	} else
		(void) kernel_request(w->kernel, w->dev, RPROC_CMD_STOP);
	return fail(w, "validate", r);
}

/*
 * Read, check and (with staging) copy the image: what the kernel is to load.
 * Returns 0 with *ret_name the name to write, or fails the work.
 */
static int prepare_image(struct work *w, const char *name, const char **ret_name)
{
	_cleanup_free_ char *path = NULL, *host = NULL, *given = NULL, *root = NULL;
	struct fw_stage s = {
		.src_fd = -1,
		.dir = w->stage_dir,
		.copy = w->stage_dir != NULL,
		.strict = w->strict_modes,
		.expect = &w->expect,
		.digests = w->digests,
	};
	int r;

	if (w->stage_missing && !w->validate_only) {
		w->why = strdup(w->stage_missing);
		return fail(w, "staging", -ENOENT);
	}
	if (name[0] == '/') {
		if (!w->stage_dir && !w->validate_only) {
			w->why = strdup_printf("firmware %s: an absolute path is read by rprocd "
					       "itself, which needs firmware staging (the "
					       "/lib/firmware/rprocd link, see FirmwareStaging=)",
					       name);
			return fail(w, "staging", -ENOENT);
		}
		path = strdup(name);
		if (!path)
			return fail(w, "validate", -ENOMEM);
	} else {
		r = rproc_firmware_resolve(w->ctx, name, &path);
		if (r < 0)
			return fail(w, "validate", r);
	}
	/*
	 * Under --root, the links on the way are resolved in the root (the host's
	 * files are not the managed system's); the walk below follows none out of
	 * it. On the real system both are the path itself.
	 */
	r = rproc_ctx_chase(w->ctx, path, 0, &host, NULL);
	if (r >= 0 && rproc_ctx_get_root(w->ctx)[0])
		r = rproc_ctx_chase(w->ctx, path, RPROC_CHASE_NOFOLLOW, &given, NULL);
	if (r >= 0)
		r = rproc_ctx_path(w->ctx, "/", &root);
	if (r < 0)
		return fail(w, "validate", r);
	s.src = host;
	s.given = given;
	s.root = root;
	if (w->validate_only)
		s.copy = false;
	r = fw_stage(&s);
	w->fw_info = s.info;
	memcpy(w->digest, s.digest, sizeof(w->digest));
	free(w->fw_path);
	w->fw_path = TAKE_PTR(path);
	if (r != 0) {
		w->why = TAKE_PTR(s.why);
		fw_stage_done(&s);
		return fail(w,
			    r > 0 || streq_ptr(s.failed_step, "firmware read") ? "validate"
									       : s.failed_step,
			    r);
	}
	if (s.copy) {
		w->staged_name = strdup_printf("%s%s", strempty(w->stage_prefix), s.name);
		fw_stage_done(&s);
		if (!w->staged_name)
			return fail(w, "staging", -ENOMEM);
		*ret_name = w->staged_name;
		return 0;
	}
	fw_stage_done(&s);
	*ret_name = name;
	return 0;
}

static int execute_boot(struct work *w)
{
	_cleanup_free_ char *current = NULL, *host = NULL;
	const char *name = w->firmware, *load = NULL;
	enum rproc_state now;
	struct stat st;
	int r, k;

	if (w->state_before == RPROC_STATE_RUNNING || w->state_before == RPROC_STATE_ATTACHED) {
		/* Someone brought it up since the job decided: adopt it, never start it twice. */
		w->came_up = true;
		return 0;
	}
	if (w->state_before != RPROC_STATE_OFFLINE)
		return fail(w, "state", -EBUSY);

	r = kernel_read_firmware(w->kernel, w->dev, &current);
	if (r < 0)
		return fail(w, "firmware", r);
	if (!name)
		name = current;

	/*
	 * The kernel's ELF loader is not a safe gate: nothing unvalidated reaches
	 * it. With staging, the kernel loads the very bytes that were checked.
	 */
	r = prepare_image(w, name, &load);
	if (r != 0)
		return r;
#if RPROCD_TEST_HOOKS
	{
		/* Test hook: a window between the check and the kernel's read, to swap the file in. */
		const char *d = getenv("RPROCD_TEST_BOOT_DELAY_MS");

		if (d && atoi(d) > 0)
			usleep((useconds_t) atoi(d) * 1000);
	}
#endif

	/*
	 * Written even when the name is the same: the write takes the core's lock
	 * and fails with EBUSY unless the core is offline. A core that reads
	 * "offline" because the kernel is recovering it (the lock held for the
	 * whole reload) is thus waited for and found up, instead of getting a
	 * "start" that would only pin a second power reference.
	 */
	r = kernel_write_firmware(w->kernel, w->dev, load);
	if (r == -EBUSY && read_state(w, &now) >= 0 &&
	    (now == RPROC_STATE_RUNNING || now == RPROC_STATE_ATTACHED)) {
		w->came_up = true;
		return 0;
	}
	if (r < 0)
		return fail(w, "firmware", r);
	r = request_start(w);
	if (r < 0)
		return fail(w, "start", r);

	/* A staged copy cannot change; a file loaded by name may have. */
	if (!w->staged_name) {
		k = rproc_ctx_chase(w->ctx, w->fw_path, 0, &host, NULL);
		if (k != -ENOMEM &&
		    (k < 0 || stat(host, &st) < 0 || !same_file(&w->fw_info, &st))) {
			w->fw_changed = true;
			return recheck_changed_image(w, name);
		}
	}
	return 0;
}

/* A devcoredump copied into CoredumpDirectory= (coredump-save.c). */
static void execute_coredump(struct work *w)
{
	struct coredump_save cs = {
		.src_dir = w->dump_src,
		.dir = w->dump_dir,
		.core = w->dump_core,
		.file = w->dump_file,
		.max_files = w->dump_max_files,
		.max_use = w->dump_max_use,
		.trace = w->dump_trace,
		.trace_len = w->dump_trace_len,
	};
	int r;

	w->begin_usec = now_usec(CLOCK_MONOTONIC);
	r = coredump_save(&cs);
	w->dump_size = cs.size;
	w->dump_removed = cs.removed;
	if (r < 0)
		fail(w, cs.failed_step ? cs.failed_step : "coredump", r);
	else {
		w->dump_path = TAKE_PTR(cs.path);
		w->dump_trace_path = TAKE_PTR(cs.trace_path);
		w->dump_trace_error = cs.trace_error;
	}
	coredump_save_done(&cs);
	w->end_usec = now_usec(CLOCK_MONOTONIC);
}

void work_execute(struct work *w)
{
	int r = 0;

	if (w->dump_src) {
		execute_coredump(w);
		return;
	}
	w->begin_usec = now_usec(CLOCK_MONOTONIC);
	(void) read_state(w, &w->state_before);

	if (w->validate_only && w->update_fd >= 0) {
		/* Update(): the caller's file, copied where it stays, checked and pinned. */
		struct fw_stage s = {
			.src_fd = w->update_fd,
			.dir = w->update_dir,
			.copy = true,
			.expect = &w->expect,
			.digests = w->digests,
		};

		r = fw_stage(&s);
		w->fw_info = s.info;
		memcpy(w->digest, s.digest, sizeof(w->digest));
		if (r != 0) {
			w->why = TAKE_PTR(s.why);
			fail(w,
			     r > 0 || streq_ptr(s.failed_step, "firmware read") ? "validate"
										: s.failed_step,
			     r);
		}
		fw_stage_done(&s);
		w->state_after = w->state_before;
		w->end_usec = now_usec(CLOCK_MONOTONIC);
		return;
	}
	if (w->validate_only) {
		const char *unused;

		/* SetFirmware(): the same checks a boot makes (names only: no absolute path). */
		if (!rproc_firmware_name_is_valid(w->firmware))
			fail(w, "validate", -EINVAL);
		else
			(void) prepare_image(w, w->firmware, &unused);
		w->state_after = w->state_before;
		w->end_usec = now_usec(CLOCK_MONOTONIC);
		return;
	}

	if (w->set_recovery >= 0) {
		r = kernel_write_recovery(w->kernel, w->dev,
					  w->set_recovery ? RPROC_RECOVERY_ENABLED
							  : RPROC_RECOVERY_DISABLED);
		if (r < 0)
			fail(w, "recovery", r);
	}
	/* The kernel refuses coredump writes while crashed (EBUSY); that is not fatal. */
	if (r >= 0 && w->set_coredump >= 0) {
		r = kernel_write_coredump(w->kernel, w->dev,
					  (enum rproc_coredump_mode) w->set_coredump);
		if (r < 0)
			fail(w, "coredump", r);
	}

	if (r >= 0)
		switch (w->action) {
		case ACTION_BOOT:
			execute_boot(w);
			break;
		case ACTION_ATTACH:
			/* The state when the write goes out, not when the job decided. */
			if (w->state_before == RPROC_STATE_RUNNING ||
			    w->state_before == RPROC_STATE_ATTACHED)
				w->came_up = true;
			else if (w->state_before != RPROC_STATE_DETACHED)
				fail(w, "state", -EBUSY);
			else if ((r = request_start(w)) < 0)
				fail(w, "start", r);
			break;
		case ACTION_STOP:
			r = kernel_request(w->kernel, w->dev, RPROC_CMD_STOP);
			if (r < 0)
				fail(w, "stop", r);
			break;
		case ACTION_DETACH:
			r = kernel_request(w->kernel, w->dev, RPROC_CMD_DETACH);
			if (r < 0)
				fail(w, "detach", r);
			break;
		case ACTION_RECOVER:
			/* "recover" on a core that is up would reboot it: only from crashed. */
			if (w->state_before == RPROC_STATE_RUNNING ||
			    w->state_before == RPROC_STATE_ATTACHED)
				w->came_up = true;
			else if (w->state_before != RPROC_STATE_CRASHED)
				fail(w, "state", -EBUSY);
			else if ((r = kernel_write_recovery(w->kernel, w->dev,
							    RPROC_RECOVERY_RECOVER)) < 0)
				fail(w, "recover", r);
			break;
		default:
			break;
		}

	/* What the kernel did, not what was asked. */
	(void) read_state(w, &w->state_after);
	(void) kernel_read_firmware(w->kernel, w->dev, &w->kernel_firmware);

	/*
	 * A stop the kernel took that left the core up (or crashed, which the
	 * kernel counts as up): another power reference holds it.
	 */
	if (w->error == 0 && w->action == ACTION_STOP &&
	    (w->state_after == RPROC_STATE_RUNNING || w->state_after == RPROC_STATE_ATTACHED ||
	     w->state_after == RPROC_STATE_CRASHED)) {
		w->still_up = true;
		fail(w, "stop", -EBUSY);
	}

	/* A start that returned 0 yet left the core offline: the wedge of a failed recovery? */
	if (w->error == 0 && !w->came_up &&
	    (w->action == ACTION_BOOT || w->action == ACTION_RECOVER) &&
	    w->state_after == RPROC_STATE_OFFLINE && really_wedged(w)) {
		w->wedged = true;
		fail(w, w->action == ACTION_BOOT ? "start" : "recover", -ENOTRECOVERABLE);
	}
	/* BindLifetime=: a core found up instead of booted is bound all the same. */
	if (w->came_up && w->via_cdev && w->cdev_fd < 0)
		bind_cdev(w);
	w->end_usec = now_usec(CLOCK_MONOTONIC);
}

struct thread_arg {
	struct work *w;
	int pipe_fd;
};

static void *thread_main(void *arg)
{
	struct thread_arg *a = arg;
	struct work *w = a->w;
	int fd = a->pipe_fd;
	ssize_t n;

	free(a);
	work_execute(w);
	/* A pointer is far below PIPE_BUF: the write is atomic. */
	do
		n = write(fd, &w, sizeof(w));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(w))
		abort(); /* the loop could never complete this work: better restart */
	return NULL;
}

/*
 * Our own stacks, unmapped when the thread is joined: glibc keeps the stacks
 * of its exited threads for reuse, each with a few pages resident (RSS at 32
 * cores, BENCHMARKS.md). The lowest page is the guard.
 */
#define WORKER_STACK_SIZE (256 * 1024)

/* One page: 4 KiB on x86, 16 or 64 KiB on some arm64 kernels. */
static size_t stack_guard(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t) p : 4096;
}

static void *stack_new(void)
{
	size_t g = stack_guard();
	void *p = mmap(NULL, WORKER_STACK_SIZE + g, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, g, PROT_NONE) < 0) {
		munmap(p, WORKER_STACK_SIZE + g);
		return NULL;
	}
	return p;
}

static void stack_free(void *p)
{
	if (p)
		(void) munmap(p, WORKER_STACK_SIZE + stack_guard());
}

static int on_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct worker_pool *p = userdata;
	struct work *batch[64];
	ssize_t n;

	(void) s;
	(void) revents;
	n = read(fd, batch, sizeof(batch));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (size_t i = 0; i < (size_t) n / sizeof(batch[0]); i++) {
		p->running--;
		/* Its last act was that write: the join waits for no more than the exit. */
		if (pthread_join(batch[i]->thread, NULL) == 0)
			stack_free(batch[i]->stack);
		else
			log_error("a worker thread could not be joined: its stack is kept");
		batch[i]->stack = NULL;
		batch[i]->done(batch[i], false);
	}
	/*
	 * The last work of a burst (start-up, a reload, a recovery) is done:
	 * give back the heap pages its firmware reads and messages used
	 * (BENCHMARKS.md: RSS at 32 running cores).
	 */
	if (p->running == 0)
		(void) malloc_trim(0);
	return 0;
}

int worker_pool_new(sd_event *e, struct worker_pool **ret)
{
	struct worker_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	if (pipe2(p->pipe, O_CLOEXEC) < 0) {
		r = -errno;
		free(p);
		return r;
	}
	/* The read end never blocks the loop. */
	fcntl(p->pipe[0], F_SETFL, O_NONBLOCK);
	r = sd_event_add_io(e, &p->source, p->pipe[0], EPOLLIN, on_pipe, p);
	if (r < 0) {
		worker_pool_free(p);
		return r;
	}
	/* Completions go before new D-Bus requests are looked at. */
	sd_event_source_set_priority(p->source, SD_EVENT_PRIORITY_IMPORTANT);
	*ret = p;
	return 0;
}

int worker_pool_new_manual(sd_event *e, struct worker_pool **ret)
{
	int r = worker_pool_new(e, ret);

	if (r >= 0)
		(*ret)->manual = true;
	return r;
}

size_t worker_pool_pending(const struct worker_pool *p)
{
	return p->n_pending;
}

struct work *worker_pool_pending_work(const struct worker_pool *p, size_t i)
{
	return i < p->n_pending ? p->pending[i] : NULL;
}

static struct work *pool_take(struct worker_pool *p, size_t i)
{
	struct work *w = p->pending[i];

	memmove(p->pending + i, p->pending + i + 1, sizeof(*p->pending) * (p->n_pending - i - 1));
	p->n_pending--;
	p->running--;
	return w;
}

void worker_pool_run(struct worker_pool *p, size_t i)
{
	struct work *w;

	if (i >= p->n_pending)
		return;
	w = pool_take(p, i);
	work_execute(w);
	w->done(w, false);
}

void worker_pool_abandon(struct worker_pool *p)
{
	while (p->n_pending > 0) {
		struct work *w = pool_take(p, 0);

		work_execute(w);
		w->done(w, true);
	}
}

struct worker_pool *worker_pool_free(struct worker_pool *p)
{
	if (!p)
		return NULL;
	worker_pool_abandon(p);
	free(p->pending);
	sd_event_source_disable_unref(p->source);
	close(p->pipe[0]);
	close(p->pipe[1]);
	free(p);
	return NULL;
}

int worker_start(struct worker_pool *p, struct work *w)
{
	struct thread_arg *a = malloc(sizeof(*a));
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (p->manual) {
		struct work **l = realloc(p->pending, sizeof(*l) * (p->n_pending + 1));

		free(a);
		if (!l)
			return -ENOMEM;
		p->pending = l;
		p->pending[p->n_pending++] = w;
		p->running++;
		return 0;
	}
	if (!a)
		return -ENOMEM;
	a->w = w;
	a->pipe_fd = p->pipe[1];

	w->stack = stack_new();
	if (!w->stack) {
		free(a);
		return -ENOMEM;
	}
	pthread_attr_init(&attr);
	/* Joinable: on_pipe() joins it, then unmaps the stack. */
	pthread_attr_setstack(&attr, (char *) w->stack + stack_guard(), WORKER_STACK_SIZE);
	/* Workers take no signals: the loop handles them through signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, &attr, thread_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		free(a);
		stack_free(w->stack);
		w->stack = NULL;
		return -r;
	}
	p->running++;
	return 0;
}

unsigned worker_pool_running(const struct worker_pool *p)
{
	return p->running;
}
