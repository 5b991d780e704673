/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl: a QR code of an offline request, drawn with UTF-8 half blocks,
 * so a phone can carry the request off an air-gapped machine. */

#include <qrencode.h>
#include <sys/ioctl.h>

#include "ctl-output.h"

/* Light modules around the symbol; the standard asks for 4, phones read 2. */
#define QR_QUIET_ZONE 2

DEFINE_TRIVIAL_CLEANUP_FUNC(QRcode *, QRcode_free);

static bool module_dark(const QRcode *qr, int x, int y) {
        if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
                return false; /* the quiet zone */
        return qr->data[y * qr->width + x] & 1;
}

static int terminal_columns(FILE *f) {
        struct winsize ws = {};

        if (ioctl(fileno(f), TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 0;
        return ws.ws_col;
}

int print_qr_code(FILE *f, const char *text, bool fit_terminal) {
        /* Two rows of modules per line of text: upper module, lower module.
         * Light modules are drawn, dark ones left blank, and with colours
         * the background is forced black and the blocks white so that the
         * code reads the same on light and dark terminals. */
        static const char *const blocks[2][2] = {
                /* [upper dark][lower dark] */
                {"\u2588", "\u2580"}, /* both light: full block; lower dark: upper half */
                {"\u2584", " "},      /* upper dark: lower half; both dark: blank */
        };
        _cleanup_(QRcode_freep) QRcode *qr = NULL;
        int size, columns;

        qr = QRcode_encodeData((int) strlen(text), (const unsigned char *) text, 0, QR_ECLEVEL_L);
        if (!qr)
                return errno == ERANGE ? -ERANGE : -(errno ?: ENOMEM);

        size = qr->width + 2 * QR_QUIET_ZONE;
        columns = terminal_columns(f);
        if (fit_terminal && columns > 0 && size > columns)
                return -E2BIG;

        for (int y = -QR_QUIET_ZONE; y < qr->width + QR_QUIET_ZONE; y += 2) {
                fputs(colors_enabled() ? "\033[40;97m" : "", f);
                for (int x = -QR_QUIET_ZONE; x < qr->width + QR_QUIET_ZONE; x++)
                        fputs(blocks[module_dark(qr, x, y)][module_dark(qr, x, y + 1)], f);
                fprintf(f, "%s\n", ansi_normal());
        }
        return size;
}
