/* assets.c - the files the HTML report embeds, built into the binary with the
 * assembler's .incbin (no generated C arrays): the page's own script and
 * style always; d3-array, d3-geo, topojson-client and the us-atlas counties
 * with their licences when scripts/web.sh staged them in PS_WEB_DIR (npm at
 * build time). web_assets.h, written by scripts/web.sh, says which. */
#include <string.h>

#include "popseg/html.h"
#include "web_assets.h"

/* sym: the bytes of file, then a NUL; sym_end just past the NUL. */
#define PS_INCBIN(sym, file)                                                                       \
  __asm__(".section .rodata\n.global " #sym "\n.hidden " #sym "\n.balign 16\n" #sym ":\n"          \
          ".incbin \"" file "\"\n.byte 0\n.global " #sym "_end\n.hidden " #sym "_end\n" #sym       \
          "_end:\n.previous\n");                                                                   \
  extern const char sym[], sym##_end[]

PS_INCBIN(ps_asset_report_js, "src/app/report.js");
PS_INCBIN(ps_asset_report_css, "src/app/report.css");
#if PS_WEB_HAVE_MAP
PS_INCBIN(ps_asset_d3_array, PS_WEB_DIR "/d3-array.min.js");
PS_INCBIN(ps_asset_d3_geo, PS_WEB_DIR "/d3-geo.min.js");
PS_INCBIN(ps_asset_topojson, PS_WEB_DIR "/topojson-client.min.js");
PS_INCBIN(ps_asset_atlas, PS_WEB_DIR "/counties-10m.json");
PS_INCBIN(ps_asset_licences, PS_WEB_DIR "/LICENSES.txt");
#endif

const ps_asset_t *ps_asset(const char *name) {
  static ps_asset_t all[8];
  static int n;
  if (n == 0) {
#define ADD(nm, sym) all[n++] = (ps_asset_t){nm, sym, (size_t)(sym##_end - sym) - 1}
    ADD("report.js", ps_asset_report_js);
    ADD("report.css", ps_asset_report_css);
#if PS_WEB_HAVE_MAP
    ADD("d3-array.min.js", ps_asset_d3_array);
    ADD("d3-geo.min.js", ps_asset_d3_geo);
    ADD("topojson-client.min.js", ps_asset_topojson);
    ADD("counties-10m.json", ps_asset_atlas);
    ADD("LICENSES.txt", ps_asset_licences);
#endif
#undef ADD
  }
  for (int i = 0; i < n; i++)
    if (strcmp(all[i].name, name) == 0) return &all[i];
  return NULL;
}

const char *ps_assets_versions(void) {
  return PS_WEB_VERSIONS;
}

const char *ps_assets_missing(void) {
  return PS_WEB_MISSING;
}
