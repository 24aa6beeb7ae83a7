/* Processes: /proc/PID/stat parsing, zombies are gone, reused PIDs are not
 * ours, process groups stop with their children; command rendering never
 * involves a shell. */
#include "unit.h"
#include "../../lib/engine/plan.h"
#include "../../lib/base/time.h"
#include "../../lib/engine/engine.h"
#include "../../lib/engine/proc.h"
#include "../../lib/engine/remote.h"
#include "../../lib/base/util.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static void stat_parse_survives_odd_names(void **state)
{
	struct proc_stat s;
	const char *t = "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 123456 1000 250 18446744073709551615";
	assert_int_equal(sc_proc_stat_parse(t, &s), 0);
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.ppid, 1);
	assert_int_equal(s.pgid, 4242);
	assert_int_equal(s.start_time, 123456);
	assert_int_equal(s.rss_bytes, 250 * (uint64_t)sysconf(_SC_PAGESIZE));
	assert_true(sc_proc_stat_parse("12 noparen S 1", &s) < 0);
	assert_true(sc_proc_stat_parse("12 (x) S 1 2", &s) < 0);
}

static void zombies_are_gone(void **state)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	struct proc_stat s;
	int64_t end = sc_now_ms() + 5000;
	while (sc_proc_stat(pid, &s) == 0 && s.state != 'Z' && sc_now_ms() < end)
		sc_sleep_ms(5);
	assert_int_equal(s.state, 'Z');
	assert_int_equal(kill(pid, 0), 0);  /* what a naive check would believe */
	assert_false(sc_proc_alive(pid, 0));
	waitpid(pid, NULL, 0);
}

static void *park(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* A main thread that has exited shows 'Z' while the process's other
 * threads live on with its descriptors (an engine's listening socket):
 * the group is not gone yet. */
static void a_zombie_leader_with_threads_left_is_not_gone(void **state)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		setpgid(0, 0);
		if (pthread_create(&t, NULL, park, NULL) != 0)
			_exit(1);
		pthread_exit(NULL);
	}
	setpgid(pid, pid);
	struct proc_stat s;
	int64_t end = sc_now_ms() + 5000;
	while (sc_proc_stat(pid, &s) == 0 && s.state != 'Z' && sc_now_ms() < end)
		sc_sleep_ms(5);
	int while_parked = sc_pgrp_members(pid, 0, NULL);
	/* killed before any assert: a child left behind would hold the
	 * test's output open and hang its reader */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(s.state, 'Z');
	assert_int_equal(while_parked, 1);
	assert_int_equal(sc_pgrp_members(pid, 0, NULL), 0);
}

static void reused_pids_are_not_ours(void **state)
{
	struct proc_stat s;
	assert_int_equal(sc_proc_stat(getpid(), &s), 0);
	assert_true(sc_proc_alive(getpid(), s.start_time));
	assert_false(sc_proc_alive(getpid(), s.start_time + 1));
	assert_false(sc_proc_alive(0, 0));
}

static void group_stop_kills_stubborn_children(void **state)
{
	char *argv[] = { "sh", "-c", "trap '' TERM; sleep 300 & sleep 300 & wait", NULL };
	struct spawn_opts o = { .argv = argv, .new_session = true };
	pid_t pid;
	sc_err e;
	assert_int_equal(sc_spawn(&o, &pid, &e), 0);
	struct proc_stat s;
	assert_int_equal(sc_proc_stat(pid, &s), 0);
	int64_t end = sc_now_ms() + 5000;
	while (sc_pgrp_members(pid, s.start_time, NULL) < 3 && sc_now_ms() < end)
		sc_sleep_ms(5);
	assert_int_equal(sc_pgrp_members(pid, s.start_time, NULL), 3);
	bool killed;
	assert_int_equal(sc_pgrp_stop(pid, s.start_time, 300, &killed, &e), 0);
	assert_true(killed);
	assert_int_equal(sc_pgrp_members(pid, s.start_time, NULL), 0);
}

static void spawn_reports_a_missing_program_in_the_log(void **state)
{
	char log[] = "/tmp/sc-spawn-XXXXXX";
	int fd = mkstemp(log);
	close(fd);
	char *argv[] = { "/nonexistent/engine", NULL };
	char *env[] = { "SC_TEST=1", NULL };
	struct spawn_opts o = { .argv = argv, .env_add = env, .log = log };
	pid_t pid;
	sc_err e;
	int status;
	assert_int_equal(sc_spawn(&o, &pid, &e), 0);
	waitpid(pid, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 127);
	char *text;
	assert_int_equal(sc_read_file(log, 4096, &text, NULL), 0);
	assert_non_null(strstr(text, "cannot run the command: /nonexistent/engine"));
	free(text);
	unlink(log);
	char out[64];
	char *echo[] = { "sh", "-c", "echo $SC_RUN_TEST; exit 3", NULL };
	setenv("SC_RUN_TEST", "visible", 1);
	assert_int_equal(sc_run(echo, out, sizeof out, 5000, &e), 3);
	assert_string_equal(out, "visible\n");
	char *slow[] = { "sleep", "5", NULL };
	assert_int_equal(sc_run(slow, NULL, 0, 100, &e), -ETIMEDOUT);
}

/* A descriptor the parent left open without close-on-exec (libevent's
 * sockets) does not reach the child; 0, 1 and 2 do. */
static void children_get_only_the_standard_descriptors(void **state)
{
	(void)state;
	int leak = open("/dev/null", O_RDONLY);  /* no O_CLOEXEC on purpose */
	assert_true(leak > 2);
	char out[256];
	char cmd[64];
	snprintf(cmd, sizeof cmd, "test -e /proc/self/fd/%d && echo open || echo closed", leak);
	char *argv[] = { "sh", "-c", cmd, NULL };
	sc_err e;
	assert_int_equal(sc_run(argv, out, sizeof out, 5000, &e), 0);
	assert_string_equal(out, "closed\n");

	char log[] = "/tmp/sc-spawn-XXXXXX";
	int fd = mkstemp(log);
	close(fd);
	char *spawned[] = { "sh", "-c", cmd, NULL };
	struct spawn_opts o = { .argv = spawned, .log = log };
	pid_t pid;
	int status;
	assert_int_equal(sc_spawn(&o, &pid, &e), 0);
	waitpid(pid, &status, 0);
	char *text;
	assert_int_equal(sc_read_file(log, 4096, &text, NULL), 0);
	assert_string_equal(text, "closed\n");
	free(text);
	unlink(log);
	close(leak);
}

static struct registry reg_of(const char *text)
{
	struct registry r;
	sc_err e;
	setenv("HOME", "/home/u", 1);
	if (sc_registry_parse("/etc/m.ini", text, strlen(text), &r, &e) < 0)
		fail_msg("%s", e.msg);
	return r;
}

static void launch_substitutes_inside_words_never_through_a_shell(void **state)
{
	struct registry r = reg_of(
		"[defaults]\nmodels-root = /m\n[engine \"s\"]\n"
		"command = python3 -m sglang.launch_server --model-path {path} --served-model-name {name} --port={port} {args}\n"
		"env = A=1 B=2\n"
		"[model \"q\"]\npath = qwen/q\nengine = s\nport = 30001\n"
		"args = --chat-template \"a b\" '$(rm -rf ~)' \";ls\"\nenv = B=3\n");
	struct launch l;
	sc_err e;
	/* the plan's flags first, then the model's args */
	char *flags[] = { "--context-length", "8192" };
	struct sc_plan p = { .flags = flags, .n_flags = 2, .context = 8192 };
	assert_int_equal(sc_engine_launch(&r, sc_registry_model(&r, "q"), &p, &l, &e), 0);
	assert_string_equal(l.mode, "host");
	const char *want[] = { "python3", "-m", "sglang.launch_server", "--model-path", "/m/qwen/q", "--served-model-name",
			       "q", "--port=30001", "--context-length", "8192", "--chat-template", "a b", "$(rm -rf ~)", ";ls" };
	assert_int_equal(l.argc, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < l.argc; i++)
		assert_string_equal(l.argv[i], want[i]);
	assert_null(l.argv[l.argc]);
	assert_int_equal(l.n_env, 3);  /* the model's B comes last and wins */
	assert_string_equal(l.env[2], "B=3");
	char *script = sc_launch_script(&l, sc_registry_model(&r, "q"), r.host);
	/* one variable, and one option with its value, a line */
	assert_non_null(strstr(script, "exec env \\\n    A=1 \\\n    B=2 \\\n    B=3 \\\n    python3 \\\n    -m sglang.launch_server \\\n"
				       "    --model-path /m/qwen/q \\\n"));
	assert_non_null(strstr(script, "'$(rm -rf ~)'"));
	assert_non_null(strstr(script, "';ls'"));
	free(script);
	sc_launch_done(&l);
	sc_registry_done(&r);
}

static void placeholders_work_in_args(void **state)
{
	struct registry r = reg_of(
		"[defaults]\nmodels-root = /m\n[engine \"l\"]\ncommand = llama-server -m {path} -c {context} {args}\n"
		"[model \"g\"]\npath = g\nengine = l\nport = 8080\nargs = --alias {name} --chat-template-file {path}.jinja\n");
	struct launch l;
	sc_err e;
	struct sc_plan p = { .context = 4096, .path = "/m/g/g-Q4_K_M.gguf" };
	assert_int_equal(sc_engine_launch(&r, sc_registry_model(&r, "g"), &p, &l, &e), 0);
	const char *want[] = { "llama-server", "-m", "/m/g/g-Q4_K_M.gguf", "-c", "4096", "--alias", "g",
			       "--chat-template-file", "/m/g/g-Q4_K_M.gguf.jinja" };
	assert_int_equal(l.argc, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < l.argc; i++)
		assert_string_equal(l.argv[i], want[i]);
	sc_launch_done(&l);
	sc_registry_done(&r);
}

static void launch_in_docker(void **state)
{
	struct registry r = reg_of(
		"[defaults]\nmodels-root = /m\n[engine \"s\"]\nimage = img:1\ndocker-args = --gpus all\n"
		"command = serve {path} --port {port}\n[model \"q\"]\npath = /elsewhere/q\nengine = s\nport = 30001\nenv = K=V\n");
	struct launch l;
	sc_err e;
	assert_int_equal(sc_engine_launch(&r, sc_registry_model(&r, "q"), NULL, &l, &e), 0);
	assert_string_equal(l.mode, "docker");
	assert_string_equal(l.container, "sparkctl-q");
	/* host networking: the engine binds the configured host on the box */
	const char *want[] = { "docker", "run", "-d", "--name", "sparkctl-q", "--label", "sparkctl.model=q", "--network",
			       "host", "-v", "/m:/m:ro", "-v", "/elsewhere/q:/elsewhere/q:ro", "--gpus", "all",
			       "-e", "K=V", "img:1", "serve", "/elsewhere/q", "--port", "30001" };
	assert_int_equal(l.argc, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < l.argc; i++)
		assert_string_equal(l.argv[i], want[i]);
	sc_launch_done(&l);
	sc_registry_done(&r);
}

static void shell_quoting(void **state)
{
	char *q = sc_shell_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = sc_shell_quote("plain-word_1.0");
	assert_string_equal(q, "plain-word_1.0");
	free(q);
	q = sc_shell_quote("");
	assert_string_equal(q, "''");
	free(q);
}

/* What a node's shell makes of a joined command: exactly the words, none
 * of them syntax (sh -c 'printf "<%s>\n" "$@"' with the words). */
static void remote_words_survive_the_shell(void **state)
{
	char *words[] = { "printf", "<%s>\\n", "a b", "it's", "$(touch /tmp/sc-pwned)", "`id`", "x;y", "\"q\"", "",
			  "-oProxyCommand=x", "\\", NULL };
	size_t n = ARRAY_SIZE(words) - 1;
	char *joined = sc_shell_join(words, n);
	assert_non_null(joined);
	char *argv[] = { "sh", "-c", joined, NULL }, out[4096];
	sc_err e;
	unlink("/tmp/sc-pwned");
	assert_int_equal(sc_run(argv, out, sizeof out, 5000, &e), 0);
	assert_string_equal(out, "<a b>\n<it's>\n<$(touch /tmp/sc-pwned)>\n<`id`>\n<x;y>\n<\"q\">\n<>\n"
				 "<-oProxyCommand=x>\n<\\>\n");
	assert_int_equal(access("/tmp/sc-pwned", F_OK), -1);
	free(joined);
	/* the local node runs the constant script with the words as arguments */
	struct reg_node local = { .name = "here", .local = true };
	char *args[] = { "$(touch /tmp/sc-pwned)", "two words" };
	assert_int_equal(sc_node_sh(&local, "printf '[%s]' \"$@\"", args, 2, out, sizeof out, 5000, &e), 0);
	assert_string_equal(out, "[$(touch /tmp/sc-pwned)][two words]");
	assert_int_equal(access("/tmp/sc-pwned", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_parse_survives_odd_names),
		cmocka_unit_test(children_get_only_the_standard_descriptors),
		cmocka_unit_test(zombies_are_gone),
		cmocka_unit_test(a_zombie_leader_with_threads_left_is_not_gone),
		cmocka_unit_test(reused_pids_are_not_ours),
		cmocka_unit_test(group_stop_kills_stubborn_children),
		cmocka_unit_test(spawn_reports_a_missing_program_in_the_log),
		cmocka_unit_test(launch_substitutes_inside_words_never_through_a_shell),
		cmocka_unit_test(placeholders_work_in_args),
		cmocka_unit_test(launch_in_docker),
		cmocka_unit_test(shell_quoting),
		cmocka_unit_test(remote_words_survive_the_shell),
	};
	return RUN(tests);
}
