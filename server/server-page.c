/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The offline page, GET / and GET /offline: for a machine without network,
 * the three round trips done by hand (docs/offline.md), and a trial: paste
 * or open from a link the activation request, validation request,
 * deactivation proof or trial request licensectl prints, and get the
 * license or receipt to carry back, or the seat freed. One self-contained page, no external resources; its script
 * posts to /v1/offline (server-offline.c). The Content-Security-Policy allows exactly this page's own
 * script and style, by their SHA-256. */

#include <openssl/evp.h>
#include <stdio.h>

#include "base64.h"
#include "server.h"

static const char page_style[] =
        "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2125}"
        "main{max-width:46rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}"
        "h1{font-size:1.5rem;margin-top:0}"
        "nav{display:flex;gap:.25rem;margin:0 0 1rem;border-bottom:1px solid #c9ced6}"
        "nav button{font:inherit;background:none;border:0;border-bottom:3px solid transparent;padding:.4rem .8rem;cursor:pointer;color:#1d2125}"
        "nav button[aria-selected=true]{border-bottom-color:#0b5cad;color:#0b5cad;font-weight:600}"
        "textarea{width:100%;box-sizing:border-box;font-family:ui-monospace,monospace;font-size:.85rem}"
        ".action{font:inherit;padding:.45rem 1rem;margin:.6rem .5rem 0 0;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}"
        ".action:disabled{opacity:.6;cursor:wait}"
        "#error,.warn{color:#a4000f;background:#fde8ea;padding:.6rem .8rem;border-radius:4px}"
        ".ok{color:#0f5132;background:#e3f4ea;padding:.6rem .8rem;border-radius:4px}"
        "code{background:#eef0f3;padding:0 .25rem;border-radius:3px}";

/* The page's behaviour: tabs for the three round trips, a request
 * carried in the URL's fragment (never sent to the server: licensectl
 * puts it there) moved into the form, which kind of document was pasted,
 * and the answer as text and download. */
static const char page_script[] =
        "\"use strict\";\n"
        "const $ = (id) => document.getElementById(id);\n"
        "// The three round trips; the BEGIN line names the document of each.\n"
        "const KINDS = {\n"
        "  activation: {title: \"Offline activation\", label: \"Activation request\", armor: \"ACTIVATION REQUEST\",\n"
        "               noun: \"an activation request\", submit: \"Get the license\", letter: \"a\", fail: \"No license: \"},\n"
        "  validation: {title: \"Offline validation\", label: \"Validation request\", armor: \"VALIDATION REQUEST\",\n"
        "               noun: \"a validation request\", submit: \"Get the receipt\", letter: \"v\", fail: \"No receipt: \"},\n"
        "  deactivation: {title: \"Offline deactivation\", label: \"Deactivation proof\", armor: \"DEACTIVATION PROOF\",\n"
        "                 noun: \"a deactivation proof\", submit: \"Free the seat\", letter: \"d\",\n"
        "                 fail: \"The seat was not freed: \"},\n"
        "  trial: {title: \"Offline trial\", label: \"Trial request\", armor: \"TRIAL REQUEST\",\n"
        "          noun: \"a trial request\", submit: \"Get the trial license\", letter: \"t\", fail: \"No trial: \"},\n"
        "};\n"
        "// What the vendor sends back, pasted here by mistake (as the server words it).\n"
        "const ANSWERS = {\n"
        "  \"LICENSE\": \"This is a license, the answer to an activation request: install it on the machine \" +\n"
        "             \"with 'licensectl install FILE'.\",\n"
        "  \"VALIDATION RECEIPT\": \"This is a validation receipt, the answer to a validation request: install it \" +\n"
        "                        \"on the machine with 'licensectl install FILE'.\",\n"
        "};\n"
        "let kind = \"activation\";\n"
        "let blobUrls = [];\n"
        "\n"
        "function kindOfArmor(armor) {\n"
        "  return Object.keys(KINDS).find((k) => KINDS[k].armor === armor);\n"
        "}\n"
        "\n"
        "// Says which document the text holds, and where it goes if not here.\n"
        "function describe() {\n"
        "  const m = /-----BEGIN LICENSED ([A-Z ]+)-----/.exec($(\"request\").value);\n"
        "  const note = $(\"kind\"), other = m ? kindOfArmor(m[1]) : undefined;\n"
        "  $(\"switch\").hidden = true;\n"
        "  if (!m) {\n"
        "    note.hidden = true;\n"
        "    return;\n"
        "  }\n"
        "  if (other === kind) {\n"
        "    note.textContent = \"This is \" + KINDS[kind].noun + \".\";\n"
        "  } else if (other) {\n"
        "    note.textContent = \"This is \" + KINDS[other].noun + \"; use \" + KINDS[other].title + \".\";\n"
        "    $(\"switch\").textContent = \"Go to \" + KINDS[other].title;\n"
        "    $(\"switch\").dataset.kind = other;\n"
        "    $(\"switch\").hidden = false;\n"
        "  } else if (ANSWERS[m[1]]) {\n"
        "    note.textContent = ANSWERS[m[1]];\n"
        "  } else {\n"
        "    note.textContent = \"This is a LICENSED \" + m[1] + \", not \" + KINDS[kind].noun + \".\";\n"
        "  }\n"
        "  note.className = other === kind ? \"ok\" : \"warn\";\n"
        "  note.hidden = false;\n"
        "}\n"
        "\n"
        "function show(k) {\n"
        "  kind = k;\n"
        "  for (const name of Object.keys(KINDS)) {\n"
        "    $(\"tab-\" + name).setAttribute(\"aria-selected\", String(name === k));\n"
        "    $(\"help-\" + name).hidden = name !== k;\n"
        "  }\n"
        "  document.title = $(\"heading\").textContent = KINDS[k].title;\n"
        "  $(\"label\").textContent = KINDS[k].label;\n"
        "  $(\"submit\").textContent = KINDS[k].submit;\n"
        "  $(\"request\").placeholder = \"-----BEGIN LICENSED \" + KINDS[k].armor + \"-----\";\n"
        "  $(\"result\").hidden = $(\"error\").hidden = true;\n"
        "  describe();\n"
        "}\n"
        "\n"
        "function fail(message) {\n"
        "  $(\"error\").textContent = message;\n"
        "  $(\"error\").hidden = false;\n"
        "}\n"
        "\n"
        "// \"#request=K.KEYID.SIGNATURE.BODY\" as licensectl prints it: the armor\n"
        "// without its fixed lines, base64url; rebuilt here into the armored text.\n"
        "function fromFragment() {\n"
        "  const hash = location.hash.slice(1);\n"
        "  if (KINDS[hash]) {\n"
        "    show(hash);\n"
        "    return;\n"
        "  }\n"
        "  if (!hash.startsWith(\"request=\"))\n"
        "    return;\n"
        "  // The request (an activation request holds the license key) stays out\n"
        "  // of the address bar and the history.\n"
        "  history.replaceState(null, \"\", location.pathname + location.search);\n"
        "  const m = /^request=([avdt])\\.([0-9a-f]{16})\\.([A-Za-z0-9_-]{86})\\.([A-Za-z0-9_-]+)$/.exec(hash);\n"
        "  if (!m) {\n"
        "    fail(\"The link does not hold a whole request (was it cut short?): paste the request text instead.\");\n"
        "    return;\n"
        "  }\n"
        "  const b64 = (s) => s.replace(/-/g, \"+\").replace(/_/g, \"/\") + \"===\".slice((s.length + 3) % 4);\n"
        "  const k = Object.keys(KINDS).find((n) => KINDS[n].letter === m[1]);\n"
        "  const armor = KINDS[k].armor;\n"
        "  show(k);\n"
        "  $(\"request\").value = \"-----BEGIN LICENSED \" + armor + \"-----\\nKey-Id: \" + m[2] + \"\\nSignature: \" +\n"
        "    b64(m[3]) + \"\\n\\n\" + b64(m[4]).match(/.{1,64}/g).join(\"\\n\") + \"\\n-----END LICENSED \" + armor + \"-----\\n\";\n"
        "  describe();\n"
        "  $(\"submit\").focus();\n"
        "}\n"
        "\n"
        "// Puts text into a textarea and a download link named name.\n"
        "function offer(text, area, link, name) {\n"
        "  const url = URL.createObjectURL(new Blob([text], {type: \"text/plain\"}));\n"
        "  blobUrls.push(url);\n"
        "  $(area).value = text;\n"
        "  $(link).href = url;\n"
        "  $(link).download = name;\n"
        "}\n"
        "\n"
        "function showResult(data) {\n"
        "  const id = data.license_id || \"license\";\n"
        "  blobUrls.forEach((u) => URL.revokeObjectURL(u));\n"
        "  blobUrls = [];\n"
        "  $(\"answer\").hidden = kind === \"deactivation\";\n"
        "  $(\"upgrade\").hidden = true;\n"
        "  if (kind === \"activation\" || kind === \"trial\") {\n"
        "    $(\"result-title\").textContent = kind === \"trial\" ? \"Your trial license\" : \"Your license\";\n"
        "    $(\"result-text\").textContent = \"Take this text back to the machine, save it as \" + id + \".lic, and run \" +\n"
        "      \"'licensectl install \" + id + \".lic'. It works only on the machine that made the request.\";\n"
        "    offer(data.license, \"license\", \"download\", id + \".lic\");\n"
        "  } else if (kind === \"validation\") {\n"
        "    $(\"result-title\").textContent = \"Your validation receipt\";\n"
        "    $(\"result-text\").textContent = (data.status === \"revoked\"\n"
        "      ? \"The vendor revoked license \" + id + \" (or freed its seat): the receipt tells the machine so. \"\n"
        "      : \"License \" + id + \" is valid. \") +\n"
        "      \"Take this text back to the machine, save it as \" + id + \".receipt, and run 'licensectl install \" +\n"
        "      id + \".receipt'.\";\n"
        "    offer(data.receipt, \"license\", \"download\", id + \".receipt\");\n"
        "    if (data.license) {\n"
        "      offer(data.license, \"upgrade-license\", \"upgrade-download\", id + \".lic\");\n"
        "      $(\"upgrade\").hidden = false;\n"
        "    }\n"
        "  } else {\n"
        "    $(\"result-title\").textContent = \"Seat freed\";\n"
        "    $(\"result-text\").textContent = \"The seat of license \" + id + \" is free: the license key can be \" +\n"
        "      \"activated on another machine now. This proof cannot be used again.\";\n"
        "  }\n"
        "  $(\"result\").hidden = false;\n"
        "}\n"
        "\n"
        "$(\"form\").addEventListener(\"submit\", async (event) => {\n"
        "  event.preventDefault();\n"
        "  $(\"error\").hidden = $(\"result\").hidden = true;\n"
        "  $(\"submit\").disabled = true;\n"
        "  try {\n"
        "    const response = await fetch(\"v1/offline\", {\n"
        "      method: \"POST\",\n"
        "      headers: {\"Content-Type\": \"application/json\"},\n"
        "      body: JSON.stringify({kind: kind, request: $(\"request\").value}),\n"
        "    });\n"
        "    let data = null;\n"
        "    try { data = await response.json(); } catch (e) { data = null; }\n"
        "    if (data && data.error && data.error.code === \"wrong-kind\")\n"
        "      fail(data.error.message);\n"
        "    else if (!response.ok || !data || data.error)\n"
        "      fail(KINDS[kind].fail + (data && data.error ? data.error.message : \"the server answered \" + response.status));\n"
        "    else\n"
        "      showResult(data);\n"
        "  } catch (e) {\n"
        "    fail(KINDS[kind].fail + e.message);\n"
        "  } finally {\n"
        "    $(\"submit\").disabled = false;\n"
        "  }\n"
        "});\n"
        "for (const name of Object.keys(KINDS))\n"
        "  $(\"tab-\" + name).addEventListener(\"click\", () => show(name));\n"
        "$(\"switch\").addEventListener(\"click\", () => show($(\"switch\").dataset.kind));\n"
        "$(\"request\").addEventListener(\"input\", describe);\n"
        "for (const b of document.querySelectorAll(\"button[data-copy]\"))\n"
        "  b.addEventListener(\"click\", () => {\n"
        "    const area = $(b.dataset.copy);\n"
        "    area.select();\n"
        "    if (navigator.clipboard) navigator.clipboard.writeText(area.value).catch(() => {});\n"
        "    else document.execCommand(\"copy\");\n"
        "  });\n"
        "window.addEventListener(\"hashchange\", fromFragment);\n"
        "fromFragment();\n";

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
        "<nav role=\"tablist\">\n"
        "<button type=\"button\" role=\"tab\" id=\"tab-activation\" aria-selected=\"true\">Activation</button>\n"
        "<button type=\"button\" role=\"tab\" id=\"tab-validation\" aria-selected=\"false\">Validation</button>\n"
        "<button type=\"button\" role=\"tab\" id=\"tab-deactivation\" aria-selected=\"false\">Deactivation</button>\n"
        "<button type=\"button\" role=\"tab\" id=\"tab-trial\" aria-selected=\"false\">Trial</button>\n"
        "</nav>\n"
        "<h1 id=\"heading\">Offline activation</h1>\n"
        "<p id=\"help-activation\">On the machine without network, run <code>licensectl activate --offline KEY</code>. Open\n"
        "the link it prints (or scan its QR code), or paste the request it prints (from\n"
        "<code>-----BEGIN LICENSED ACTIVATION REQUEST-----</code> to the END line) here.</p>\n"
        "<p id=\"help-validation\" hidden>On the machine without network, run <code>licensectl validate --offline ID</code>.\n"
        "Open the link it prints (or scan its QR code), or paste the validation request here; you get a receipt to\n"
        "install on the machine.</p>\n"
        "<p id=\"help-deactivation\" hidden>After <code>licensectl deactivate --offline ID</code> removed the license from\n"
        "the machine, open the link it prints (or scan its QR code), or paste the deactivation proof here: the seat it\n"
        "held is freed, so the key can be activated on another machine.</p>\n"
        "<p id=\"help-trial\" hidden>On the machine without network, run <code>licensectl trial --offline PRODUCT</code>.\n"
        "Open the link it prints (or scan its QR code), or paste the trial request here; you get a trial license to\n"
        "install on the machine. A machine gets one trial of a product.</p>\n"
        "<form id=\"form\">\n"
        "<label for=\"request\" id=\"label\">Activation request</label>\n"
        "<textarea id=\"request\" name=\"request\" rows=\"12\" spellcheck=\"false\" required\n"
        "placeholder=\"-----BEGIN LICENSED ACTIVATION REQUEST-----\"></textarea>\n"
        "<p id=\"kind\" hidden></p>\n"
        "<button type=\"button\" class=\"action\" id=\"switch\" hidden></button>\n"
        "<button type=\"submit\" class=\"action\" id=\"submit\">Get the license</button>\n"
        "</form>\n"
        "<p id=\"error\" role=\"alert\" hidden></p>\n"
        "<section id=\"result\" hidden>\n"
        "<h2 id=\"result-title\">Your license</h2>\n"
        "<p id=\"result-text\"></p>\n"
        "<div id=\"answer\">\n"
        "<textarea id=\"license\" rows=\"14\" readonly spellcheck=\"false\"></textarea>\n"
        "<button type=\"button\" class=\"action\" data-copy=\"license\">Copy</button>\n"
        "<a id=\"download\" class=\"action\" href=\"#\" download=\"license.lic\">Download</a>\n"
        "</div>\n"
        "<div id=\"upgrade\" hidden>\n"
        "<h2>Your upgraded license</h2>\n"
        "<p>The vendor upgraded this license: install this file on the machine too.</p>\n"
        "<textarea id=\"upgrade-license\" rows=\"14\" readonly spellcheck=\"false\"></textarea>\n"
        "<button type=\"button\" class=\"action\" data-copy=\"upgrade-license\">Copy</button>\n"
        "<a id=\"upgrade-download\" class=\"action\" href=\"#\" download=\"license.lic\">Download</a>\n"
        "</div>\n"
        "</section>\n"
        "<noscript><p>This page needs JavaScript. Without it, send the request to your vendor, or POST it as\n"
        "{\"kind\": \"activation\", \"request\": \"...\"} (or \"validation\", \"deactivation\", \"trial\") to /v1/offline (see the\n"
        "protocol documentation).</p></noscript>\n"
        "</main>\n"
        "<script>%s</script>\n"
        "</body>\n"
        "</html>\n";

int server_csp_hash(const char *text, char **ret) {
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

        r = server_csp_hash(page_script, &script);
        if (r >= 0)
                r = server_csp_hash(page_style, &style);
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
