/* html.c - the HTML report's page (see html.h): formatting only.
 *
 * The page is the data (one JSON object in a <script type="application/json">
 * element, every string through ps_json_str), the page's script and style,
 * and the map's libraries and atlas when they were embedded. Nothing is
 * fetched when it is opened: no network, no server. */
#include <stdio.h>
#include <string.h>

#include "popseg/html.h"
#include "popseg/json.h"
#include "popseg/report.h"

/* Text for HTML element content and attribute values. */
static void html_esc(ps_sb_t *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': ps_sb_puts(b, "&lt;"); break;
    case '>': ps_sb_puts(b, "&gt;"); break;
    case '&': ps_sb_puts(b, "&amp;"); break;
    case '"': ps_sb_puts(b, "&quot;"); break;
    default: ps_sb_put(b, s, 1);
    }
  }
}

static void key(ps_sb_t *b, const char *k) {
  ps_json_str(b, k);
  ps_sb_put(b, ":", 1);
}

static const char *str_at(const char *block, size_t width, int64_t i) {
  return block + (size_t)i * width;
}

static void segments_json(ps_sb_t *b, const ps_html_t *h) {
  ps_sb_puts(b, "[");
  for (int64_t c = 0; c < h->k; c++) {
    ps_sb_t name = {0}, highs = {0}, lows = {0};
    if (h->index) {
      ps_portrait(h->index + c * h->d, h->d, h->fnames, h->fwidth, 5, &highs, &lows, &name);
    } else {
      ps_sb_printf(&name, "Segment %lld", (long long)c);
    }
    ps_sb_puts(b, c ? ",{" : "{");
    key(b, "name");
    ps_json_str(b, ps_sb_str(&name));
    ps_sb_puts(b, ",");
    key(b, "highs");
    ps_json_str(b, h->index ? ps_sb_str(&highs) : NULL);
    ps_sb_puts(b, ",");
    key(b, "lows");
    ps_json_str(b, h->index ? ps_sb_str(&lows) : NULL);
    ps_sb_puts(b, ",");
    key(b, "size");
    ps_sb_printf(b, "%lld,", (long long)h->sizes[c]);
    key(b, "weight");
    if (h->weight_sizes)
      ps_json_num(b, h->weight_sizes[c]);
    else
      ps_sb_puts(b, "null");
    ps_sb_puts(b, ",");
    key(b, "examples");
    ps_sb_puts(b, "[");
    int said = 0;
    for (int64_t e = 0; e < h->n_examples; e++) {
      const char *s = str_at(h->example_names, h->ex_width, c * h->n_examples + e);
      if (!s[0]) continue;
      if (said++) ps_sb_puts(b, ",");
      ps_json_str(b, s);
    }
    ps_sb_puts(b, "]}");
    if (name.oom || highs.oom || lows.oom) b->oom = 1;
    ps_sb_free(&name);
    ps_sb_free(&highs);
    ps_sb_free(&lows);
  }
  ps_sb_puts(b, "]");
}

static void rows_json(ps_sb_t *b, const ps_html_t *h) {
  ps_sb_puts(b, "{");
  key(b, "n_total");
  ps_sb_printf(b, "%lld,", (long long)h->n_rows);
  key(b, "stride");
  ps_sb_printf(b, "%lld,", (long long)h->stride);
  key(b, "ids");
  ps_json_i64s(b, h->ids, h->n_drawn);
  ps_sb_puts(b, ",");
  key(b, "names");
  ps_json_strs(b, h->names, h->n_drawn, h->name_width);
  ps_sb_puts(b, ",");
  key(b, "seg");
  ps_json_i32s(b, h->labels, h->n_drawn);
  ps_sb_puts(b, ",");
  key(b, "dist");
  ps_json_f64s(b, h->distance, h->n_drawn, 4);
  ps_sb_puts(b, ",");
  key(b, "pc1");
  ps_sb_puts(b, "[");
  for (int64_t i = 0; i < h->n_drawn; i++) {
    if (i) ps_sb_puts(b, ",");
    ps_json_numd(b, h->pc[2 * i], 4);
  }
  ps_sb_puts(b, "],");
  key(b, "pc2");
  ps_sb_puts(b, "[");
  for (int64_t i = 0; i < h->n_drawn; i++) {
    if (i) ps_sb_puts(b, ",");
    ps_json_numd(b, h->pc[2 * i + 1], 4);
  }
  ps_sb_puts(b, "],");
  key(b, "sub");
  if (h->sub_labels)
    ps_json_i32s(b, h->sub_labels, h->n_drawn);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "weight");
  if (h->weight)
    ps_json_f64s(b, h->weight, h->n_drawn, 6);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "key_names");
  ps_json_strs(b, h->key_names, h->n_key, h->key_width);
  ps_sb_puts(b, ",");
  key(b, "key");
  ps_json_f64m(b, h->key, h->key ? h->n_drawn : 0, h->n_key, 5);
  ps_sb_puts(b, ",");
  key(b, "old");
  if (h->model_labels)
    ps_json_i32s(b, h->model_labels, h->n_drawn);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, "}");
}

static void data_json(ps_sb_t *b, const ps_html_t *h) {
  ps_sb_puts(b, "{");
  key(b, "kind");
  ps_json_str(b, h->predictions ? "predictions" : "results");
  ps_sb_puts(b, ",");
  key(b, "source");
  ps_json_str(b, h->source);
  ps_sb_puts(b, ",");
  key(b, "input");
  ps_json_str(b, h->input);
  ps_sb_puts(b, ",");
  key(b, "model");
  ps_json_str(b, h->model);
  ps_sb_puts(b, ",");
  key(b, "command_line");
  ps_json_str(b, h->command_line);
  ps_sb_puts(b, ",");
  key(b, "weights_name");
  ps_json_str(b, h->weights_name);
  ps_sb_puts(b, ",");
  key(b, "mean_kind");
  ps_json_str(b, h->mean_kind);
  ps_sb_puts(b, ",");
  key(b, "features");
  ps_json_strs(b, h->fnames, h->d, h->fwidth);
  ps_sb_puts(b, ",");
  key(b, "K");
  ps_sb_printf(b, "%lld,", (long long)h->K);
  key(b, "k");
  ps_sb_printf(b, "%lld,", (long long)h->k);
  key(b, "evr");
  if (h->evr)
    ps_json_f64s(b, h->evr, h->p, 6);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "components");
  if (h->components)
    ps_json_f64m(b, h->components, h->K, h->d, 5);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "centroids");
  if (h->centroids)
    ps_json_f64m(b, h->centroids, h->k, h->K, 5);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "index");
  if (h->index)
    ps_json_f64m(b, h->index, h->k, h->d, 5);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "means");
  if (h->mean)
    ps_json_f64m(b, h->mean, h->k, h->d, 5);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "overall");
  if (h->overall_mean)
    ps_json_f64s(b, h->overall_mean, h->d, 5);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, ",");
  key(b, "segments");
  segments_json(b, h);
  ps_sb_puts(b, ",");
  key(b, "sub");
  if (h->m > 0) {
    ps_sb_puts(b, "{");
    key(b, "codes");
    ps_json_strs(b, h->codes, h->m, h->code_width);
    ps_sb_puts(b, ",");
    key(b, "parent");
    ps_json_i32s(b, h->parent, h->m);
    ps_sb_puts(b, ",");
    key(b, "sizes");
    if (h->sub_sizes)
      ps_json_i64s(b, h->sub_sizes, h->m);
    else
      ps_sb_puts(b, "null");
    ps_sb_puts(b, ",");
    key(b, "weights");
    if (h->sub_weights)
      ps_json_f64s(b, h->sub_weights, h->m, 8);
    else
      ps_sb_puts(b, "null");
    ps_sb_puts(b, "}");
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "rows");
  rows_json(b, h);
  ps_sb_puts(b, ",");
  key(b, "sweep");
  if (h->n_k > 0) {
    ps_sb_puts(b, "{");
    key(b, "k");
    ps_json_i64s(b, h->sweep_k, h->n_k);
    ps_sb_puts(b, ",");
    key(b, "inertia");
    ps_json_f64s(b, h->sweep_inertia, h->n_k, 8);
    ps_sb_puts(b, ",");
    key(b, "silhouette");
    ps_json_f64s(b, h->sweep_silhouette, h->n_k, 6);
    ps_sb_puts(b, ",");
    key(b, "suggested");
    ps_sb_printf(b, "%lld}", (long long)h->suggested_k);
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "predict");
  if (h->transition) {
    ps_sb_puts(b, "{");
    key(b, "transition");
    ps_sb_puts(b, "[");
    for (int64_t i = 0; i < h->k; i++) {
      if (i) ps_sb_puts(b, ",");
      ps_json_i64s(b, h->transition + i * h->k, h->k);
    }
    ps_sb_puts(b, "],");
    key(b, "matched");
    ps_sb_printf(b, "%lld,", (long long)h->matched);
    key(b, "changed");
    ps_sb_printf(b, "%lld,", (long long)h->changed);
    key(b, "n_new");
    ps_sb_printf(b, "%lld}", (long long)h->n_new);
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "map");
  ps_sb_puts(b, "{");
  key(b, "available");
  ps_sb_puts(b, ps_assets_missing() ? "false," : "true,");
  key(b, "missing");
  ps_json_str(b, ps_assets_missing());
  ps_sb_puts(b, ",");
  key(b, "versions");
  ps_json_str(b, ps_assets_versions());
  ps_sb_puts(b, "}}");
}

/* An embedded script, or nothing when the build did not have it. */
static void script(ps_sb_t *b, const char *name) {
  const ps_asset_t *a = ps_asset(name);
  if (!a) return;
  ps_sb_printf(b, "<script data-asset=\"%s\">\n", name);
  ps_sb_put(b, a->data, a->len);
  ps_sb_puts(b, "\n</script>\n");
}

void ps_html_build(const ps_html_t *h, ps_sb_t *out) {
  const ps_asset_t *css = ps_asset("report.css"), *atlas = ps_asset("counties-10m.json");
  const ps_asset_t *lic = ps_asset("LICENSES.txt");
  ps_sb_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>popseg report: ");
  html_esc(out, h->source[0] ? h->source : h->input);
  ps_sb_puts(out, "</title>\n<style>\n");
  if (css) ps_sb_put(out, css->data, css->len);
  ps_sb_puts(out, "\n</style>\n</head>\n<body>\n<header><h1>popseg ");
  ps_sb_puts(out, h->predictions ? "predictions" : "segmentation");
  ps_sb_puts(out, " report</h1>\n<p class=\"source\">");
  html_esc(out, h->source[0] ? h->source : h->input);
  ps_sb_puts(out, "</p></header>\n<div id=\"errors\" hidden></div>\n"
                  "<noscript><p>This report draws its charts with JavaScript.</p></noscript>\n"
                  "<main id=\"app\"></main>\n<footer>\n<details><summary>Command line and "
                  "embedded software</summary>\n<pre class=\"cmd\">");
  html_esc(out, h->command_line);
  ps_sb_puts(out, "</pre>\n<p>");
  if (ps_assets_missing()) {
    ps_sb_puts(out, "No map: ");
    html_esc(out, ps_assets_missing());
  } else {
    ps_sb_puts(out, "The map uses ");
    html_esc(out, ps_assets_versions());
    ps_sb_puts(out, ". County shapes: us-atlas, from the US Census Bureau's cartographic "
                    "boundary files. Their licences:");
  }
  ps_sb_puts(out, "</p>\n");
  if (lic) {
    ps_sb_puts(out, "<pre class=\"licences\">");
    html_esc(out, lic->data);
    ps_sb_puts(out, "</pre>\n");
  }
  ps_sb_puts(out, "</details>\n</footer>\n<div id=\"tooltip\" hidden></div>\n"
                  "<script id=\"popseg-data\" type=\"application/json\">");
  data_json(out, h);
  ps_sb_puts(out, "</script>\n");
  if (atlas) {
    ps_sb_puts(out, "<script id=\"popseg-atlas\" type=\"application/json\">");
    ps_sb_put(out, atlas->data, atlas->len);
    ps_sb_puts(out, "</script>\n");
    script(out, "d3-array.min.js");
    script(out, "d3-geo.min.js");
    script(out, "topojson-client.min.js");
  }
  script(out, "report.js");
  ps_sb_puts(out, "</body>\n</html>\n");
}
