#include "proc.h"
#include "../base/time.h"
#include "../base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* sparkctl's own secrets: a child (an engine, docker) never inherits them;
 * a model that needs one names it in its env. */
static bool secret_var(const char *kv)
{
	static const char *const secrets[] = { "SPARKCTL_TOKEN=", "HF_TOKEN=", "HUGGING_FACE_HUB_TOKEN=" };
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		if (startswith(kv, secrets[i]))
			return true;
	return false;
}

/* The environment less the secrets, plus additions (a KEY= addition
 * replaces KEY). */
static char **merged_env(char *const *add)
{
	size_t n = 0, k = 0;
	for (char **p = environ; *p; p++)
		n++;
	for (char *const *a = add; a && *a; a++)
		n++;
	char **env = calloc(n + 1, sizeof *env);
	if (!env)
		return NULL;
	for (char **p = environ; *p; p++) {
		bool overridden = false;
		size_t kl = strcspn(*p, "=");
		for (char *const *a = add; a && *a && !overridden; a++)
			overridden = strncmp(*a, *p, kl + 1) == 0;
		if (!overridden && !secret_var(*p))
			env[k++] = *p;
	}
	for (char *const *a = add; a && *a; a++) {
		/* the last of several additions of one key wins */
		size_t kl = strcspn(*a, "=");
		bool later = false;
		for (char *const *b = a + 1; *b && !later; b++)
			later = strncmp(*a, *b, kl + 1) == 0;
		if (!later)
			env[k++] = *a;
	}
	env[k] = NULL;
	return env;
}

/* A child starts with default signals: the mask and the ignored ones
 * survive exec, and a parent's worker thread (the proxy's) blocks them
 * all, so an engine would never see SIGTERM. Async-signal-safe. */
static void child_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/* A child keeps only 0, 1 and 2. libevent's sockets are not close-on-exec:
 * an engine the proxy starts held every client and upstream connection
 * open at that moment, so a client's hang-up never reached the client, and
 * the proxy's epoll kept reporting sockets it had closed (a spinning
 * loop). Async-signal-safe; max_fd is read before the fork. */
static void child_close_fds(int max_fd)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	for (int fd = 3; fd < max_fd; fd++)
		close(fd);
}

int sc_spawn(const struct spawn_opts *o, pid_t *ret, sc_err *e)
{
	*ret = 0;
	_cleanup_free_ char **env = merged_env(o->env_add);
	if (!env)
		return sc_error(e, -ENOMEM, "out of memory");
	int out = open(o->log ? o->log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out < 0)
		return sc_error(e, -errno, "%s: %s", o->log, strerror(errno));
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		close(out);
		return sc_error(e, -errno, "/dev/null: %s", strerror(errno));
	}
	int max_fd = sc_fd_limit();
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(out);
		close(in);
		return sc_error(e, r, "fork: %s", sc_strerror(r));
	}
	if (pid == 0) {
		/* only async-signal-safe calls from here on */
		if (o->new_session)
			setsid();
		else if (o->join_pgid)
			setpgid(0, o->join_pgid);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		child_close_fds(max_fd);
		child_signals();
		execvpe(o->argv[0], o->argv, env);
		static const char msg[] = "sparkctl: cannot run the command: ";
		const char *why = strerror(errno);
		if (write(2, msg, sizeof msg - 1) < 0 || write(2, o->argv[0], strlen(o->argv[0])) < 0 ||
		    write(2, ": ", 2) < 0 || write(2, why, strlen(why)) < 0 || write(2, "\n", 1) < 0)
			_exit(127);
		_exit(127);
	}
	close(out);
	close(in);
	*ret = pid;
	return 0;
}

int sc_run(char *const *argv, char *out, size_t cap, int timeout_ms, sc_err *e)
{
	int pfd[2];
	_cleanup_free_ char **env = merged_env(NULL);
	if (!env)
		return sc_error(e, -ENOMEM, "out of memory");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sc_error(e, -errno, "pipe: %s", strerror(errno));
	int max_fd = sc_fd_limit();
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return sc_error(e, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);  /* docker says why it failed on stderr */
		child_close_fds(max_fd);
		child_signals();
		execvpe(argv[0], argv, env);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	int64_t deadline = timeout_ms ? sc_now_ms() + timeout_ms : 0;
	bool timed_out = false;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int wait = deadline ? (int)(deadline - sc_now_ms()) : -1;
		if (deadline && wait <= 0) {
			timed_out = true;
			break;
		}
		int pr = poll(&p, 1, wait);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;  /* the deadline is checked above */
		char buf[4096];
		ssize_t k = read(pfd[0], buf, sizeof buf);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			break;
		if (out && n + 1 < cap) {
			size_t take = (size_t)k < cap - 1 - n ? (size_t)k : cap - 1 - n;
			memcpy(out + n, buf, take);
			n += take;
		}
	}
	close(pfd[0]);
	if (out && cap)
		out[n] = '\0';
	if (timed_out)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sc_error(e, -errno, "waitpid: %s", strerror(errno));
	if (timed_out)
		return sc_error(e, -ETIMEDOUT, "%s did not finish within %d ms", argv[0], timeout_ms);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 127 ? sc_error(e, -ENOENT, "cannot run %s", argv[0]) : WEXITSTATUS(status);
	return sc_error(e, -ECHILD, "%s was killed by signal %d", argv[0], WTERMSIG(status));
}

int sc_proc_stat_parse(const char *text, struct proc_stat *ret)
{
	*ret = (struct proc_stat){ 0 };
	/* "pid (comm) state ppid pgrp ..." - comm may hold anything */
	const char *p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	struct proc_stat s = { 0 };
	unsigned long long f[24];
	char state;
	/* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice threads
	 * itrealvalue starttime vsize rss */
	if (sscanf(p, "%c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &state, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11],
		   &f[12], &f[13], &f[14], &f[15], &f[16], &f[17], &f[18], &f[19], &f[20]) != 22)
		return -EINVAL;
	s.state = state;
	s.ppid = (pid_t)f[0];
	s.pgid = (pid_t)f[1];
	s.start_time = f[18];
	s.rss_bytes = f[20] * (uint64_t)sysconf(_SC_PAGESIZE);
	*ret = s;
	return 0;
}

int sc_proc_stat(pid_t pid, struct proc_stat *ret)
{
	*ret = (struct proc_stat){ 0 };
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	return sc_proc_stat_parse(buf, ret);
}

bool sc_proc_alive(pid_t pid, uint64_t start_time)
{
	struct proc_stat s;
	if (pid <= 0 || sc_proc_stat(pid, &s) < 0)
		return false;
	if (s.state == 'Z' || s.state == 'X')
		return false;
	return !start_time || s.start_time == start_time;
}

/* A process whose main thread has exited shows 'Z' while its other
 * threads are still on their way out, holding its descriptors (an
 * engine's listening socket): it is not gone until /proc/PID/task has
 * only the main thread left. */
static bool threads_left(long pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/task", pid);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	if (!d)
		return false;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n > 1;
}

int sc_pgrp_members(pid_t pgid, uint64_t start_time, uint64_t *rss_bytes)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	uint64_t rss = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct proc_stat s;
		if (*end || pid <= 0 || sc_proc_stat((pid_t)pid, &s) < 0)
			continue;
		if (s.pgid != pgid || s.state == 'X' || s.start_time < start_time ||
		    (s.state == 'Z' && !threads_left(pid)))
			continue;
		n++;
		rss += s.rss_bytes;
	}
	closedir(d);
	if (rss_bytes)
		*rss_bytes = rss;
	return n;
}

/* Wait until no member is left, reaping our own children on the way. */
static bool wait_gone(pid_t pgid, uint64_t start_time, int timeout_ms)
{
	int64_t deadline = sc_now_ms() + timeout_ms;
	for (;;) {
		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		if (sc_pgrp_members(pgid, start_time, NULL) <= 0)
			return true;
		if (sc_now_ms() >= deadline)
			return false;
		sc_sleep_ms(20);
	}
}

int sc_pgrp_stop(pid_t pgid, uint64_t start_time, int timeout_ms, bool *killed, sc_err *e)
{
	*killed = false;
	if (pgid <= 1)
		return sc_error(e, -EINVAL, "refusing to signal process group %d", (int)pgid);
	if (sc_pgrp_members(pgid, start_time, NULL) <= 0)
		return 0;
	if (kill(-pgid, SIGTERM) < 0 && errno != ESRCH)
		return sc_error(e, -errno, "kill %d: %s", (int)-pgid, strerror(errno));
	if (wait_gone(pgid, start_time, timeout_ms))
		return 0;
	*killed = true;
	if (kill(-pgid, SIGKILL) < 0 && errno != ESRCH)
		return sc_error(e, -errno, "kill %d: %s", (int)-pgid, strerror(errno));
	if (!wait_gone(pgid, start_time, 5000))
		return sc_error(e, -EBUSY, "process group %d survived SIGKILL", (int)pgid);
	return 0;
}

bool sc_find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		char full[4096];
		if (snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? p : ".", prog) < (int)sizeof full &&
		    access(full, X_OK) == 0)
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}
