/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The answer to a VALIDATION REQUEST, shared by 'licensed-vendor receipt'
 * (offline) and licensed-server's /v1/validate (online). */

#include "request.h"
#include "timeutil.h"

/* Signs the receipt for req: its license id, product, machine id and nonce,
 * validated now, with status. */
static inline int receipt_sign_for_request(const MachineRequest *req, ReceiptStatus status,
                                           EVP_PKEY *vendor_key, char **ret) {
        /* Borrows the request's strings: not to be freed. */
        ValidationReceipt rc = {
                .license_id = req->license_id,
                .product = req->product,
                .machine_id = req->machine_id,
                .nonce = req->nonce,
                .validated = now_realtime(),
                .status = status,
        };

        return validation_receipt_sign(&rc, vendor_key, ret);
}
