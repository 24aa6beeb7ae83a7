/* libsparkctl: the public interface. Everything it exports starts with
 * sc_ (lib/libsparkctl.vers keeps the rest local); these headers are the
 * ones installed. Build against it with pkg-config:
 *   cc prog.c $(pkg-config --cflags --libs sparkctl) */
#ifndef SPARKCTL_H
#define SPARKCTL_H

#include "base/err.h"
#include "base/registry.h"
#include "ops/scan.h"
#include "ops/inspect.h"
#include "ops/serve.h"
#include "ops/download.h"
#include "ops/model_json.h"
#include "net/openai.h"
#include "net/hub.h"
#include "net/unpack.h"
#include "probe/history.h"

#endif
