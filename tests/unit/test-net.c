/* The network side's rules: the Hub client's globs, origins (the token
 * never crosses one), server-sent events, git blob ids, tokens, appending
 * a model to models.ini. */
#include "unit.h"
#include "../../lib/net/hash.h"
#include "../../lib/net/hub.h"
#include "../../lib/net/openai.h"
#include "../../lib/base/registry.h"
#include "../../lib/base/token.h"
#include "../../lib/base/util.h"

#include <sys/stat.h>

static void globs_as_the_hub_client(void **state)
{
	assert_true(sc_hub_glob_match("*.json", "config.json"));
	assert_true(sc_hub_glob_match("*.json", "original/params.json"));  /* '*' crosses '/' */
	assert_false(sc_hub_glob_match("*.JSON", "config.json"));          /* case-sensitive */
	assert_true(sc_hub_glob_match("original/", "original/params.json"));
	assert_false(sc_hub_glob_match("original/", "originals.json"));
	assert_true(sc_hub_glob_match("model-0000?-of-*.safetensors", "model-00001-of-00002.safetensors"));
	char *inc[] = { "*.safetensors", "*.json" }, *exc[] = { "original/*" };
	assert_true(sc_hub_keep("config.json", inc, 2, exc, 1));
	assert_false(sc_hub_keep("original/params.json", inc, 2, exc, 1));
	assert_false(sc_hub_keep("README.md", inc, 2, exc, 1));
	assert_true(sc_hub_keep("README.md", NULL, 0, NULL, 0));
}

static void origins(void **state)
{
	char a[256], b[256];
	sc_url_origin("https://huggingface.co/org/x/resolve/main/a", a, sizeof a);
	assert_string_equal(a, "https://huggingface.co:443");
	sc_url_origin("HTTPS://HuggingFace.co:443/api", b, sizeof b);
	assert_string_equal(a, b);
	sc_url_origin("https://cdn-lfs.hf.co/repos/x?sig=1", b, sizeof b);
	assert_string_not_equal(a, b);
	sc_url_origin("http://127.0.0.1:8080/x", a, sizeof a);
	sc_url_origin("http://127.0.0.1:8081/x", b, sizeof b);
	assert_string_not_equal(a, b);  /* another port is another origin */
	sc_url_origin("http://127.0.0.1:8080", b, sizeof b);
	assert_string_equal(a, b);
}

static void server_sent_events(void **state)
{
	struct sse_state s = { .first_ms = -1, .usage_tokens = -1 };
	const char *lines[] = {
		": a comment", "event: message", "id: 1",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},\"finish_reason\":null}]}\r",
		"", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"},\"finish_reason\":null}]}",
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}", "data: [DONE]",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		assert_int_equal(sc_sse_line(&s, lines[i], strlen(lines[i]), (double)i), 0);
	assert_false(s.malformed);
	assert_true(s.done);
	assert_string_equal(s.content, "Paris");
	assert_int_equal(s.chunks, 2);
	assert_string_equal(s.finish, "stop");
	assert_int_equal(s.usage_tokens, 2);
	assert_true(s.first_ms == 4.0);
	sc_sse_state_done(&s);
	struct sse_state bad = { .first_ms = -1 };
	sc_sse_line(&bad, "data: {oops", 11, 0);
	assert_true(bad.malformed);
	assert_string_equal(bad.bad, "data: {oops");
	struct sse_state noise = { .first_ms = -1 };
	sc_sse_line(&noise, "garbage without a colon", 23, 0);
	assert_true(noise.malformed);
}

static void git_blob_ids_and_sha256(void **state)
{
	struct sc_hash *h;
	char out[65];
	sc_err e;
	/* git hash-object of "hello\n" */
	assert_int_equal(sc_hash_git_blob(6, &h, &e), 0);
	sc_hash_update(h, "hello\n", 6);
	sc_hash_final(h, out);
	sc_hash_free(h);
	assert_string_equal(out, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_int_equal(sc_hash_new(SC_SHA256, &h, &e), 0);
	sc_hash_update(h, "abc", 3);
	sc_hash_final(h, out);
	sc_hash_free(h);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void tokens_are_stripped_and_loose_files_noticed(void **state)
{
	char path[] = "/tmp/sc-token-XXXXXX";
	int fd = mkstemp(path);
	assert_true(write(fd, "  hf_abc \n", 10) == 10);
	close(fd);
	chmod(path, 0644);
	char *t;
	bool loose;
	sc_err e;
	assert_int_equal(sc_token_read(path, &t, &loose, &e), 0);
	assert_string_equal(t, "hf_abc");
	assert_true(loose);
	sc_secret_free(t);
	chmod(path, 0600);
	assert_int_equal(sc_token_read(path, &t, &loose, &e), 0);
	assert_false(loose);
	sc_secret_free(t);
	unlink(path);
}

static void appending_a_model_keeps_the_file(void **state)
{
	char dir[] = "/tmp/sc-append-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/sub/models.ini", dir);
	sc_err e;
	/* no engine named and no [defaults] engine: refused, nothing written */
	assert_int_equal(sc_registry_append_model(path, "a", "org/a", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--engine"));
	assert_int_equal(access(path, F_OK), -1);
	/* a missing file is created, with the built-in engine it names */
	assert_int_equal(sc_registry_append_model(path, "a", "org/a", "sglang", &e), 0);
	char *text;
	assert_int_equal(sc_read_file(path, 1 << 20, &text, NULL), 0);
	assert_non_null(strstr(text, "\n[engine \"sglang\"]\ncommand = python3 -m sglang.launch_server"));
	assert_non_null(strstr(text, "\n[model \"a\"]\npath = \"org/a\"\nengine = sglang\n"));
	free(text);
	FILE *f = fopen(path, "w");
	fputs("# keep me\n[defaults]\nengine = e\n[engine \"e\"]\ncommand = c   ; and me", f);
	fclose(f);
	/* [defaults] engine; a path with quote and backslash escaped as
	 * models.ini(5) reads them back */
	assert_int_equal(sc_registry_append_model(path, "b", "/abs path/q\"x\\y", NULL, &e), 0);
	assert_int_equal(sc_read_file(path, 1 << 20, &text, NULL), 0);
	assert_string_equal(text, "# keep me\n[defaults]\nengine = e\n[engine \"e\"]\ncommand = c   ; and me\n\n"
				  "[model \"b\"]\npath = \"/abs path/q\\\"x\\\\y\"\nengine = e\n");
	struct registry r;
	assert_int_equal(sc_registry_parse(path, text, strlen(text), &r, &e), 0);
	assert_string_equal(sc_registry_model(&r, "b")->path, "/abs path/q\"x\\y");
	sc_registry_done(&r);
	free(text);
	assert_int_equal(sc_registry_append_model(path, "b", "x", NULL, &e), -EEXIST);
	assert_int_equal(sc_registry_append_model(path, "bad\"name", "x", NULL, &e), -EINVAL);
	assert_int_equal(sc_registry_append_model(path, "../evil", "x", NULL, &e), -EINVAL);
	assert_int_equal(sc_registry_append_model(path, "c", "x", "nosuch", &e), -EINVAL);
	assert_int_equal(sc_registry_append_model(path, "c", "new\nline\x01", NULL, &e), -EINVAL);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(globs_as_the_hub_client),
		cmocka_unit_test(origins),
		cmocka_unit_test(server_sent_events),
		cmocka_unit_test(git_blob_ids_and_sha256),
		cmocka_unit_test(tokens_are_stripped_and_loose_files_noticed),
		cmocka_unit_test(appending_a_model_keeps_the_file),
	};
	return RUN(tests);
}
