/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-id128.h>

/* licensed's application id for sd_id128_get_machine_app_specific(): the
 * machine id itself never leaves the machine, only this keyed hash of it,
 * which licenses are bound to. Changing it unbinds every license in the
 * field. Also used by bench/make-licenses.c to bind its licenses. */
#define LICENSED_APP_ID SD_ID128_MAKE(6b, 1e, 0d, 5f, a2, 93, 4c, 7e, b8, 51, 3d, c4, 09, e7, 2a, f6)
