/* One model folder (or one checkpoint file): its files, what they hold,
 * its status and its problems. */
#ifndef SC_MODEL_H
#define SC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "../base/err.h"
#include "gguf.h"
#include "hfconfig.h"
#include "quantcfg.h"
#include "tstats.h"
#include "vocab.h"

enum sc_fkind { FK_OTHER, FK_SAFETENSORS, FK_INDEX, FK_GGUF, FK_PICKLE, FK_PARTIAL, FK_CONFIG };

/* Kind of a file by its name. */
enum sc_fkind sc_file_kind(const char *name);

struct sc_problem {
	const char *code;  /* missing-shard, truncated, ... (static) */
	char *file;        /* relative to the model folder, may be NULL */
	char *message;
};

struct sc_problems {
	struct sc_problem *v;
	size_t n, cap;
};

/* A weight file. Reading it fills only its own record, so the files of one
 * model can be read on several threads; sc_model_finish merges. */
struct sc_wfile {
	char *rel;  /* relative to the model folder */
	enum sc_fkind kind;
	uint64_t size;
	uint64_t tensors;
	bool parsed;  /* its header was read without error */
	bool lfs;     /* a Git LFS pointer */
	struct tstats *stats;
	struct sc_problems problems;
	struct gguf_file *gguf;
	const char *gguf_type;  /* static name */
};

struct sc_model {
	char *dir;   /* absolute folder */
	char *rel;   /* path relative to the scan root */
	char *name;  /* served name from the registry, or NULL */
	char *single_file;  /* set when the model is one file given directly */
	enum sc_format format;
	enum sc_quant_method quant_method;
	enum sc_kv_dtype kv;
	char *gguf_type;
	enum sc_status status;
	struct sc_problems problems;   /* after sc_model_finish: all of them */
	struct sc_problems index_problems;
	char **index_files;            /* *.safetensors.index.json at the top */
	size_t n_index_files;
	uint64_t apparent_bytes, disk_bytes;
	struct sc_wfile *weights;  /* primary weight files, sorted */
	size_t n_weights, cap_weights;
	uint64_t tensors;
	struct param_count params;
	bool params_known;
	bool packed_is_4bit;
	char *architecture;
	bool has_config;
	struct hf_config config;
	struct quant_decl decl;
	struct tstats *stats;
	struct gguf_file *gguf;  /* header of the first GGUF file */
};

/* Is this folder a model (config.json, weights, an index or a partial
 * download at its top)? */
bool sc_is_model_dir(const char *dir);

/* Read a model folder. Problems with the model's files are recorded in ret,
 * not returned: <0 only for failures to do the work at all (memory). */
int sc_model_load(const char *dir, const char *rel, struct sc_model *ret, sc_err *e);

/* sc_model_load in steps, for callers that read files in parallel: open
 * (walk, config, declaration), then any order and any thread for
 * sc_model_read_weight(i) and sc_model_read_index, then finish. */
int sc_model_open(const char *dir, const char *rel, struct sc_model *ret, sc_err *e);
int sc_model_read_weight(struct sc_model *m, size_t i);
int sc_model_read_index(struct sc_model *m);
int sc_model_finish(struct sc_model *m, sc_err *e);

/* Read one .safetensors or .gguf file as a model (config.json from its
 * folder, if any). */
int sc_model_load_file(const char *path, struct sc_model *ret, sc_err *e);

void sc_model_done(struct sc_model *m);

/* Every tensor of the model's readable weight files, in file order, read
 * anew from the headers (nothing is kept in memory); cb returns <0 to stop. */
struct sc_tensor_row {
	const char *name, *dtype;
	unsigned ndim;
	const uint64_t *dims;  /* GGUF: ggml order, innermost first */
	uint64_t bytes;
	const char *file;
};
int sc_model_foreach_tensor(const struct sc_model *m, int (*cb)(void *ud, const struct sc_tensor_row *t), void *ud,
			    sc_err *e);

/* Count of problems that make the status not ok (warnings excluded). */
bool sc_problem_is_warning(const char *code);

#endif
