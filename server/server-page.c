/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The offline activation page, GET / and GET /offline: a customer whose
 * machine has no network pastes the request code from
 * 'licensectl activate --offline' and gets the license text to carry back.
 * One self-contained page, no external resources; its script posts to
 * /v1/offline. The Content-Security-Policy allows exactly this page's own
 * script and style, by their SHA-256. */

#include <openssl/evp.h>
#include <stdio.h>

#include "base64.h"
#include "server.h"

static const char page_style[] =
        "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2125}"
        "main{max-width:46rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;"
        "box-shadow:0 1px 3px #0002}"
        "h1{font-size:1.5rem;margin-top:0}"
        "textarea{width:100%;box-sizing:border-box;font-family:ui-monospace,monospace;font-size:.85rem}"
        "button,a.button{font:inherit;padding:.45rem 1rem;margin:.6rem .5rem 0 0;border-radius:4px;"
        "border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer;text-decoration:none;"
        "display:inline-block}"
        "button:disabled{opacity:.6;cursor:wait}"
        "#error{color:#a4000f;background:#fde8ea;padding:.6rem .8rem;border-radius:4px}"
        "code{background:#eef0f3;padding:0 .25rem;border-radius:3px}";

static const char page_script[] =
        "\"use strict\";\n"
        "const $ = (id) => document.getElementById(id);\n"
        "let blobUrl = null;\n"
        "$(\"form\").addEventListener(\"submit\", async (event) => {\n"
        "  event.preventDefault();\n"
        "  $(\"error\").hidden = true;\n"
        "  $(\"result\").hidden = true;\n"
        "  $(\"submit\").disabled = true;\n"
        "  try {\n"
        "    const response = await fetch(\"v1/offline\", {\n"
        "      method: \"POST\",\n"
        "      headers: {\"Content-Type\": \"application/json\"},\n"
        "      body: JSON.stringify({request: $(\"request\").value}),\n"
        "    });\n"
        "    let data = null;\n"
        "    try { data = await response.json(); } catch (e) { data = null; }\n"
        "    if (!response.ok || !data || typeof data.license !== \"string\")\n"
        "      throw new Error(data && data.error ? data.error.message : \"the server answered \" + "
        "response.status);\n"
        "    $(\"license\").value = data.license;\n"
        "    if (blobUrl) URL.revokeObjectURL(blobUrl);\n"
        "    blobUrl = URL.createObjectURL(new Blob([data.license], {type: \"text/plain\"}));\n"
        "    $(\"download\").href = blobUrl;\n"
        "    $(\"download\").download = (data.license_id || \"license\") + \".lic\";\n"
        "    $(\"filename\").textContent = $(\"download\").download;\n"
        "    $(\"result\").hidden = false;\n"
        "  } catch (e) {\n"
        "    $(\"error\").textContent = \"No license: \" + e.message;\n"
        "    $(\"error\").hidden = false;\n"
        "  } finally {\n"
        "    $(\"submit\").disabled = false;\n"
        "  }\n"
        "});\n"
        "$(\"copy\").addEventListener(\"click\", () => {\n"
        "  $(\"license\").select();\n"
        "  if (navigator.clipboard) navigator.clipboard.writeText($(\"license\").value).catch(() => {});\n"
        "  else document.execCommand(\"copy\");\n"
        "});\n";

static const char page_head[] =
        "<!DOCTYPE html>\n"
        "<html lang=\"en\">\n"
        "<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>Offline activation</title>\n"
        "<style>%s</style>\n"
        "</head>\n"
        "<body>\n"
        "<main>\n"
        "<h1>Offline activation</h1>\n"
        "<p>On the machine without network, run <code>licensectl activate --offline KEY</code> and paste "
        "the\n"
        "request code it prints (from <code>-----BEGIN LICENSED ACTIVATION REQUEST-----</code> to the END "
        "line)\n"
        "here.</p>\n"
        "<form id=\"form\">\n"
        "<label for=\"request\">Activation request</label>\n"
        "<textarea id=\"request\" name=\"request\" rows=\"12\" spellcheck=\"false\" required\n"
        "placeholder=\"-----BEGIN LICENSED ACTIVATION REQUEST-----\"></textarea>\n"
        "<button type=\"submit\" id=\"submit\">Get the license</button>\n"
        "</form>\n"
        "<p id=\"error\" role=\"alert\" hidden></p>\n"
        "<section id=\"result\" hidden>\n"
        "<h2>Your license</h2>\n"
        "<p>Take this text back to the machine, save it as <code id=\"filename\">license.lic</code>, and "
        "run\n"
        "<code>licensectl install FILE</code>. It works only on the machine that made the request.</p>\n"
        "<textarea id=\"license\" rows=\"14\" readonly spellcheck=\"false\"></textarea>\n"
        "<button type=\"button\" id=\"copy\">Copy</button>\n"
        "<a id=\"download\" class=\"button\" href=\"#\" download=\"license.lic\">Download</a>\n"
        "</section>\n"
        "<noscript><p>This page needs JavaScript. Without it, send the request code to your vendor, or POST "
        "it\n"
        "as {\"request\": \"...\"} to /v1/offline (see the protocol documentation).</p></noscript>\n"
        "</main>\n"
        "<script>%s</script>\n"
        "</body>\n"
        "</html>\n";

/* "'sha256-<base64>'" of text, for a CSP source list. */
static int csp_hash(const char *text, char **ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len;
        _cleanup_free_ char *b64 = NULL;

        if (EVP_Digest(text, strlen(text), md, &md_len, EVP_sha256(), NULL) != 1)
                return -EIO;
        b64 = base64_encode(md, md_len);
        if (!b64 || asprintf(ret, "'sha256-%s'", b64) < 0)
                return -ENOMEM;
        return 0;
}

int server_page_init(ServerPage *p) {
        _cleanup_free_ char *script = NULL, *style = NULL;
        int r;

        r = csp_hash(page_script, &script);
        if (r >= 0)
                r = csp_hash(page_style, &style);
        if (r < 0)
                return r;
        if (asprintf(&p->html, page_head, page_style, page_script) < 0) {
                p->html = NULL;
                return -ENOMEM;
        }
        if (asprintf(&p->csp,
                     "default-src 'none'; script-src %s; style-src %s; connect-src 'self'; base-uri 'none'; "
                     "form-action 'none'; frame-ancestors 'none'",
                     script, style) < 0) {
                p->csp = NULL;
                return -ENOMEM;
        }
        return 0;
}

void server_page_done(ServerPage *p) {
        free(p->html);
        free(p->csp);
        *p = (ServerPage){};
}
