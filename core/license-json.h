/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A license as a JSON object (json-c): for --json output and the server's
 * API. Field names follow the body format with '-' turned into '_'. */

#include <json-c/json.h>

#include "license.h"

json_object *license_to_json(const License *l);
