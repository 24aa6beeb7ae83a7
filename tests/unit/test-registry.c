/* models.ini: the git-config syntax, the registry's keys and checks, and
 * every error naming file and line. */
#include "unit.h"
#include "../../lib/base/words.h"
#include "../../lib/base/ini.h"
#include "../../lib/base/registry.h"
#include "../../lib/base/util.h"
#include "../../lib/base/token.h"

static int parse(const char *text, struct registry *r, sc_err *e)
{
	return sc_registry_parse("m.ini", text, strlen(text), r, e);
}

static void expect_error(const char *text, const char *msg)
{
	struct registry r;
	sc_err e = { "" };
	int x = parse(text, &r, &e);
	if (x >= 0 || !strstr(e.msg, msg))
		print_error("for:\n%s\nexpected an error containing \"%s\", got %d \"%s\"\n", text, msg, x, e.msg);
	assert_true(x < 0);
	assert_non_null(strstr(e.msg, msg));
}

static void syntax_quotes_comments_continuations(void **state)
{
	struct ini ini;
	sc_err e;
	const char *t = "# comment\n; another\n[Sec \"Sub \\\"x\\\"\"]\n"
			"Key = value   # trailing comment\n"
			"q = \"  spaced # not a comment \"\n"
			"esc = a\\tb\\\\c\n"
			"cont = one \\\n  two\n"
			"bare\n"
			"[other]\r\nk=v\r\n";
	assert_int_equal(sc_ini_parse("f", t, strlen(t), &ini, &e), 0);
	assert_int_equal(ini.n, 6);
	assert_string_equal(ini.entries[0].section, "sec");
	assert_string_equal(ini.entries[0].subsection, "Sub \"x\"");
	assert_string_equal(ini.entries[0].key, "key");
	assert_string_equal(ini.entries[0].value, "value");
	assert_string_equal(ini.entries[1].value, "  spaced # not a comment ");
	assert_string_equal(ini.entries[2].value, "a\tb\\c");
	assert_string_equal(ini.entries[3].value, "one   two");
	assert_null(ini.entries[4].value);
	assert_int_equal(ini.entries[4].line, 9);
	assert_string_equal(ini.entries[5].value, "v");
	assert_int_equal(ini.entries[5].line, 11);
	sc_ini_done(&ini);
}

static void syntax_errors_name_file_and_line(void **state)
{
	static const struct { const char *text, *msg; } c[] = {
		{ "[defaults\n", "m.ini:1: expected ']'" },
		{ "\n\nkey = 1\n", "m.ini:3: key \"key\" before any [section]" },
		{ "[a]\nk = \"open\n", "m.ini:2: unterminated quote" },
		{ "[a]\n= v\n", "m.ini:2: expected a key" },
		{ "[a]\nk v\n", "m.ini:2: expected '='" },
		{ "[a]\nk = \\q\n", "m.ini:2: unknown escape" },
		{ "[a \"x]\n", "m.ini:1: unterminated quoted section name" },
		{ "[a] junk\n", "m.ini:1: text after the section header" },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct ini ini;
		sc_err e = { "" };
		int r = sc_ini_parse("m.ini", c[i].text, strlen(c[i].text), &ini, &e);
		if (r != SC_ECONFIG || !strstr(e.msg, c[i].msg))
			print_error("case %zu: %d \"%s\"\n", i, r, e.msg);
		assert_int_equal(r, SC_ECONFIG);
		assert_non_null(strstr(e.msg, c[i].msg));
	}
}

static const char *full =
	"[defaults]\nmodels-root = ~/ai/models\nmemory = 128G\nmem-fraction = 0.85\nhost = 127.0.0.1\n"
	"token-file = ~/.config/sparkctl/token\n"
	"[engine \"sglang\"]\nimage = lmsysorg/sglang:spark\ndocker-args = --gpus all --ipc=host\n"
	"command = python3 -m sglang.launch_server --model-path {path} --port {port} {args}\n"
	"ready-timeout = 900\nstop-timeout = 30\nunsupported = compressed-tensors, mxfp4\n"
	"env = A=1 \"B=two words\"\nenv = C=3\n"
	"[engine \"vllm\"]\ncommand = vllm serve {path}\n"
	"[model \"qwen3-32b-nvfp4\"]\npath = qwen3/qwen3-32b-nvfp4\nengine = sglang\nport = 30001\n"
	"proxy-port = 31001\ngroup = big\nargs = --quantization modelopt_fp4\ncontext = 32768\nenv = A=9\n"
	"[model \"abs\"]\npath = /srv/m\nengine = vllm\nport = 30001\n";

static void the_whole_format(void **state)
{
	struct registry r;
	sc_err e;
	setenv("HOME", "/home/u", 1);
	assert_int_equal(parse(full, &r, &e), 0);
	assert_string_equal(r.models_root, "/home/u/ai/models");
	assert_int_equal(r.memory, 128ULL << 30);
	assert_true(r.mem_fraction > 0.849 && r.mem_fraction < 0.851);
	assert_string_equal(r.token_file, "/home/u/.config/sparkctl/token");
	const struct reg_engine *en = sc_registry_engine(&r, "sglang");
	assert_non_null(en);
	assert_string_equal(en->image, "lmsysorg/sglang:spark");
	assert_int_equal(en->stop_timeout, 30);
	assert_int_equal(en->n_unsupported, 2);
	assert_string_equal(en->unsupported[1], "mxfp4");
	assert_non_null(sc_registry_unsupported(en, "fp8", "compressed_tensors"));
	assert_null(sc_registry_unsupported(en, "nvfp4", "modelopt"));
	assert_int_equal(en->n_env, 3);
	assert_string_equal(en->env[1], "B=two words");
	assert_string_equal(sc_registry_engine(&r, "vllm")->health, "/health");
	assert_int_equal(sc_registry_engine(&r, "vllm")->ready_timeout, 900);
	const struct reg_model *m = sc_registry_model(&r, "qwen3-32b-nvfp4");
	assert_int_equal(m->port, 30001);
	assert_int_equal(m->proxy_port, 31001);
	assert_int_equal(m->context, 32768);
	assert_string_equal(m->group, "big");
	char *dir = sc_registry_model_dir(&r, m);
	assert_string_equal(dir, "/home/u/ai/models/qwen3/qwen3-32b-nvfp4");
	free(dir);
	dir = sc_registry_model_dir(&r, sc_registry_model(&r, "abs"));
	assert_string_equal(dir, "/srv/m");
	free(dir);
	/* two models of different groups on one port: a warning */
	assert_int_equal(r.n_warnings, 1);
	assert_non_null(strstr(r.warnings[0], "shares port 30001"));
	sc_registry_done(&r);
}

static void registry_errors_name_the_line(void **state)
{
	expect_error("[model \"a\"]\nengine = x\n", "m.ini:1: [model \"a\"] has no path");
	expect_error("[engine \"e\"]\ncommand = c\n[model \"a\"]\npath = p\n", "m.ini:3: [model \"a\"] has no engine");
	expect_error("[model \"a\"]\npath = p\nengine = nope\n", "unknown engine \"nope\"");
	expect_error("[engine \"e\"]\ncommand = c\n[model \"a\"]\npath = p\nengine = e\nport = http\n",
		     "m.ini:6: port: not a port number");
	expect_error("[defaults]\nmemory = lots\n", "m.ini:2: memory: not a size");
	expect_error("[defaults]\nmem-fraction = 1.5\n", "m.ini:2: mem-fraction");
	expect_error("[engine \"e\"]\nready-timeout = soon\n", "m.ini:2: ready-timeout");
	expect_error("[engine \"e\"]\ncommand = c\nenv = NOEQUALS\n", "m.ini:3: env: \"NOEQUALS\" is not KEY=VALUE");
	expect_error("[model]\n", "m.ini:1: [model] needs a name");
	expect_error("[engine \"e\"]\ncommand = c\n[engine \"e\"]\n", "m.ini:3: [engine \"e\"] is defined twice");
	expect_error("[engine \"e\"]\nhealth = nope\n", "m.ini:2: health: must begin with '/'");
	expect_error("[engine \"e\"]\n", "m.ini:1: [engine \"e\"] has no command");
}

static void unknown_keys_and_sections_warn(void **state)
{
	struct registry r;
	sc_err e;
	assert_int_equal(parse("[defaults]\ncolour = blue\n[weird]\n[engine \"e\"]\ncommand = c\nfoo = 1\n", &r, &e), 0);
	assert_int_equal(r.n_warnings, 3);
	assert_non_null(strstr(r.warnings[0], "m.ini:3: unknown section [weird]"));
	assert_non_null(strstr(r.warnings[1], "m.ini:2: unknown key \"colour\""));
	sc_registry_done(&r);
}

static void default_engine_and_sizes(void **state)
{
	struct registry r;
	sc_err e;
	assert_int_equal(parse("[defaults]\nengine = e\n[engine \"e\"]\ncommand = c\n[model \"m\"]\npath = p\n", &r, &e), 0);
	assert_string_equal(sc_registry_model(&r, "m")->engine, "e");
	sc_registry_done(&r);
	uint64_t v;
	assert_int_equal(sc_parse_size("1.5G", &v), 0);
	assert_int_equal(v, 3ULL << 29);
	assert_int_equal(sc_parse_size("512MiB", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_true(sc_parse_size("12X", &v) < 0);
	assert_true(sc_parse_size("-1G", &v) < 0);
	/* what people read: binary units with their names, durations in words */
	char b[32];
	sc_format_bytes(573, b, sizeof b);
	assert_string_equal(b, "573 B");
	sc_format_bytes(870ULL << 10, b, sizeof b);
	assert_string_equal(b, "870 KiB");
	sc_format_bytes(3ULL << 29, b, sizeof b);
	assert_string_equal(b, "1.5 GiB");
	sc_format_duration(42, b, sizeof b);
	assert_string_equal(b, "42 s");
	sc_format_duration(180, b, sizeof b);
	assert_string_equal(b, "3 min");
	sc_format_duration(2 * 3600 + 5 * 60, b, sizeof b);
	assert_string_equal(b, "2 h 5 min");
	sc_format_duration(3 * 86400 + 4 * 3600, b, sizeof b);
	assert_string_equal(b, "3 d 4 h");
}

static void relative_root_is_relative_to_the_file(void **state)
{
	struct registry r;
	sc_err e;
	const char *t = "[defaults]\nmodels-root = ../models\n";
	assert_int_equal(sc_registry_parse("/etc/sparkctl/models.ini", t, strlen(t), &r, &e), 0);
	assert_string_equal(r.models_root, "/etc/sparkctl/../models");
	sc_registry_done(&r);
}

static void split_words_quotes_without_expansion(void **state)
{
	char **w;
	size_t n;
	sc_err e;
	assert_int_equal(sc_split_words("a 'b c' \"d \\\"e\" f\\ g $(rm) ;", &w, &n, &e), 0);
	assert_int_equal(n, 6);
	assert_string_equal(w[1], "b c");
	assert_string_equal(w[2], "d \"e");
	assert_string_equal(w[3], "f g");
	assert_string_equal(w[4], "$(rm)");
	assert_string_equal(w[5], ";");
	assert_null(w[6]);
	sc_strv_free(w, n);
	assert_true(sc_split_words("'open", &w, &n, &e) < 0);
	assert_true(sc_split_words("end\\", &w, &n, &e) < 0);
}

static void lookup_order(void **state)
{
	char dir[] = "/tmp/sc-reg-XXXXXX", path[512], xdg[256];
	assert_non_null(mkdtemp(dir));
	snprintf(xdg, sizeof xdg, "%s/xdg/sparkctl", dir);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "mkdir -p %s", xdg);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/models.ini", xdg);
	FILE *f = fopen(path, "w");
	fputs("[defaults]\nmodels-root = /from/xdg\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/explicit.ini", dir);
	f = fopen(path, "w");
	fputs("[defaults]\nmodels-root = /from/explicit\n", f);
	fclose(f);
	snprintf(xdg, sizeof xdg, "%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	unsetenv("SPARKCTL_CONFIG");
	struct registry r;
	sc_err e;
	assert_int_equal(sc_registry_load(NULL, &r, &e), 0);
	assert_string_equal(r.models_root, "/from/xdg");
	sc_registry_done(&r);
	setenv("SPARKCTL_CONFIG", path, 1);
	assert_int_equal(sc_registry_load(NULL, &r, &e), 0);
	assert_string_equal(r.models_root, "/from/explicit");
	sc_registry_done(&r);
	/* an explicit file that is missing is an error, not the defaults */
	assert_int_equal(sc_registry_load("/nonexistent/m.ini", &r, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/m.ini"));
	unsetenv("SPARKCTL_CONFIG");
	snprintf(xdg, sizeof xdg, "%s/none", dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", dir, 1);
	if (access("/etc/sparkctl/models.ini", F_OK) != 0) {
		assert_int_equal(sc_registry_load(NULL, &r, &e), 0);
		assert_null(r.file);
		assert_non_null(sc_registry_engine(&r, "sglang"));
		sc_registry_done(&r);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void proxy_section_defaults_and_errors(void **state)
{
	struct registry r;
	sc_err e;
	assert_int_equal(parse("[engine \"sglang\"]\ncommand = x {path}\n[model \"a\"]\npath = /x\nengine = sglang\n", &r, &e), 0);
	assert_int_equal(r.proxy.n_listen, 1);
	assert_string_equal(r.proxy.listen[0], "127.0.0.1:31000");
	assert_int_equal(r.proxy.queue_size, 256);
	assert_int_equal(r.proxy.drain_timeout, 30);
	assert_int_equal(r.proxy.body_max, 32 << 20);
	assert_int_equal(r.models[0].ttl, 0);
	sc_registry_done(&r);
	assert_int_equal(parse("[proxy]\nlisten = 0.0.0.0:31000, [::1]:31001\nqueue-size = 8\nbody-max = 1MiB\n"
			       "[engine \"sglang\"]\ncommand = x {path}\n[model \"a\"]\npath = /x\nengine = sglang\nttl = 0\n",
			       &r, &e), 0);
	assert_int_equal(r.proxy.n_listen, 2);
	assert_string_equal(r.proxy.listen[1], "[::1]:31001");
	assert_int_equal(r.proxy.queue_size, 8);
	assert_int_equal(r.proxy.body_max, 1 << 20);
	sc_registry_done(&r);
	expect_error("[proxy]\nlisten = 127.0.0.1\n", "m.ini:2: listen: not HOST:PORT");
	expect_error("[proxy]\nlisten = ::1:31000\n", "m.ini:2: listen: not HOST:PORT");
	expect_error("[proxy]\nlisten = a:0\n", "m.ini:2: listen: not HOST:PORT");
	expect_error("[proxy]\nlisten = -x:80\n", "m.ini:2: listen: not HOST:PORT");
	expect_error("[proxy]\nqueue-size = 0\n", "m.ini:2: queue-size: not a number from 1");
	expect_error("[proxy]\nbody-max = 100\n", "m.ini:2: body-max: not a size with a unit");
	expect_error("[model \"a\"]\npath = /x\nttl = -1\n", "m.ini:3: ttl: not a number of seconds");
}

static void listen_split(void **state)
{
	char host[64];
	int port;
	assert_int_equal(sc_listen_split("[::1]:8080", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(sc_listen_split("spark-a:31000", host, sizeof host, &port), 0);
	assert_string_equal(host, "spark-a");
	assert_true(sc_listen_split("[::1:8080", host, sizeof host, &port) < 0);
	assert_true(sc_listen_split(":8080", host, sizeof host, &port) < 0);
	assert_true(sc_listen_split("h:65536", host, sizeof host, &port) < 0);
	assert_true(sc_listen_split("h:80;rm", host, sizeof host, &port) < 0);
	assert_true(sc_listen_split("h;rm:80", host, sizeof host, &port) < 0);
	/* longer than the buffer: refused, not cut */
	assert_true(sc_listen_split("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1", host, sizeof host, &port) < 0);
}

static void token_files(void **state)
{
	struct sc_token *t;
	size_t n;
	sc_err e;
	const char *f = "# clients\n\nwebui: sk-one\n  sk-two  \r\ncursor:\tsk-three\nurl:http://x\n";
	assert_int_equal(sc_tokens_parse("tok", f, strlen(f), &t, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(t[0].label, "webui");
	assert_string_equal(t[0].token, "sk-one");
	assert_null(t[1].label);
	assert_string_equal(t[1].token, "sk-two");
	assert_string_equal(t[2].label, "cursor");
	assert_string_equal(t[2].token, "sk-three");
	assert_null(t[3].label);  /* a colon without a blank is part of the token */
	assert_string_equal(t[3].token, "url:http://x");
	assert_int_equal(sc_tokens_match(t, n, "sk-two", 6), 1);
	assert_int_equal(sc_tokens_match(t, n, "sk-tw", 5), -1);
	assert_int_equal(sc_tokens_match(t, n, "sk-twoo", 7), -1);
	assert_int_equal(sc_tokens_match(t, n, "", 0), -1);
	assert_int_equal(sc_tokens_match(t, n, "sk-one", 6), 0);
	sc_tokens_free(t, n);
	static const char *const bad[] = { "ok\nbad token\n", "ok\nlabel:\n", "x\x01y\n", "a: b c\n" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		e.msg[0] = '\0';
		assert_true(sc_tokens_parse("tok", bad[i], strlen(bad[i]), &t, &n, &e) < 0);
		assert_null(t);
		assert_non_null(strstr(e.msg, "tok:"));
		/* the line, never the token */
		assert_null(strstr(e.msg, "bad"));
		assert_null(strstr(e.msg, "x\x01"));
	}
	assert_int_equal(sc_tokens_parse("tok", "", 0, &t, &n, &e), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syntax_quotes_comments_continuations),
		cmocka_unit_test(syntax_errors_name_file_and_line),
		cmocka_unit_test(the_whole_format),
		cmocka_unit_test(registry_errors_name_the_line),
		cmocka_unit_test(unknown_keys_and_sections_warn),
		cmocka_unit_test(default_engine_and_sizes),
		cmocka_unit_test(relative_root_is_relative_to_the_file),
		cmocka_unit_test(split_words_quotes_without_expansion),
		cmocka_unit_test(lookup_order),
		cmocka_unit_test(proxy_section_defaults_and_errors),
		cmocka_unit_test(listen_split),
		cmocka_unit_test(token_files),
	};
	return RUN(tests);
}
