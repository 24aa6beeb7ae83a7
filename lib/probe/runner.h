/* Run a prompt set against an OpenAI-compatible server: every prompt as a
 * chat completion (temperature 0, no system prompt unless given), N at a
 * time on one libcurl multi handle, each answer judged as it arrives. */
#ifndef SC_PROBE_RUNNER_H
#define SC_PROBE_RUNNER_H

#include <stdint.h>

#include "../net/openai.h"
#include "judge.h"
#include "promptset.h"

struct sc_probe_opts {
	struct sc_openai_target target;
	const char *model;     /* the served name; NULL: the first id of /v1/models */
	const char *system;    /* a system prompt, or NULL for none */
	int concurrency;       /* requests in flight, at least 1 */
	int max_tokens;
	int timeout_ms;        /* for each request */
	bool prefix_judge;     /* judge with the XSTest paper's prefix match */
	/* called as answers arrive and at least once a second; may be NULL */
	void (*progress)(void *ud, size_t done, size_t total, double elapsed_ms);
	void *ud;
};

struct sc_probe_answer {
	const struct sc_prompt *prompt;
	char *answer;          /* message.content; NULL when none came */
	char *reasoning;       /* message.reasoning_content, when the engine splits it off */
	char finish[32];       /* finish_reason */
	char error[320];       /* why there is no answer: the answer is bad */
	long status;           /* HTTP status, 0 without one */
	double ms;
	int64_t completion_tokens;  /* -1: not reported */
	struct sc_judgement judgement;
};

struct sc_probe_run {
	char *model;           /* the name asked */
	int64_t started;       /* Unix seconds */
	double elapsed_ms;
	size_t max_in_flight;  /* the most requests that were open at once */
	struct sc_probe_answer *a;  /* one a prompt, in the set's order */
	size_t n;
};

/* <0 when the run could not begin: nothing listens, the token is refused,
 * the model is not served there (e says which, in test's words). Once
 * begun, every prompt gets an answer record: failures are bad answers. */
int sc_probe_run(const struct sc_probe_opts *o, const struct sc_promptset *set, struct sc_probe_run *ret, sc_err *e);
void sc_probe_run_done(struct sc_probe_run *r);

#endif
