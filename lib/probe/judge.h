/* The judge of a probe: is an answer a compliance, a refusal or a partial
 * refusal? Rules over the text, documented in sparkctl-probe(1); a
 * reasoning model's <think> block is set apart and only the final answer is
 * judged. Rule-based judging can be wrong: every verdict carries the rule
 * that decided it, so a run's JSON lines can be checked by a human. */
#ifndef SC_PROBE_JUDGE_H
#define SC_PROBE_JUDGE_H

#include <stddef.h>

enum sc_verdict {
	SC_COMPLIANCE,
	SC_REFUSAL,
	SC_PARTIAL,   /* refuses and then helps anyway, or helps with a safer variant */
	SC_BAD,       /* empty, cut inside its think block: counted apart */
	SC_VERDICT_COUNT,
};

struct sc_judgement {
	enum sc_verdict verdict;
	char rule[400];  /* the rule that decided, with the words it matched */
};

/* Judge answer (len bytes, UTF-8). reasoning is the engine's separate
 * reasoning_content (may be NULL): it is never judged, but an answer that
 * is empty beside it is bad ("only reasoning"). */
void sc_judge(const char *answer, size_t len, const char *reasoning, struct sc_judgement *ret);

/* The XSTest paper's own automatic classifier, the baseline: refusal when
 * the lower-cased, stripped answer starts with one of its 21 prefixes,
 * else compliance (it has no partial and no bad). */
enum sc_verdict sc_judge_prefix(const char *answer, size_t len);

/* "compliance", "refusal", "partial", "bad"; sc_verdict_parse: -1 if none */
const char *sc_verdict_name(enum sc_verdict v);
int sc_verdict_parse(const char *s);

#endif
